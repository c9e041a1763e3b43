import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { creditLedger, type Guild, guilds } from "../db/schema.js";
import { requireInteger } from "./errors.js";
import { SYSTEM_ACTOR } from "./movements.js";

/**
 * The guild's row, created on first sight with `initialCredits` (recorded as a "starting credits" grant so
 * that balance = sum of ledger from the first moment). Safe to call on every request and concurrently:
 * the insert is `on conflict do nothing`, so only the process that created the row writes the grant.
 */
export async function ensureGuild(db: Database, guildId: string, initialCredits: number): Promise<Guild> {
  requireInteger(initialCredits, "Initial credits", 0);
  const [existing] = await db.select().from(guilds).where(eq(guilds.id, guildId));
  if (existing) return existing;
  await createGuilds(db, [guildId], initialCredits);
  const [row] = await db.select().from(guilds).where(eq(guilds.id, guildId));
  if (!row) throw new Error(`Guild ${guildId} vanished right after it was created`);
  return row;
}

/** Guild ids per statement when many are recorded at once (a bot in thousands of servers, at start). */
const BATCH = 500;

/**
 * Record every guild of a list that has no row yet, with its starting credits: one statement per 500 ids
 * instead of three per guild.
 */
export async function ensureGuilds(
  db: Database,
  guildIds: readonly string[],
  initialCredits: number,
): Promise<void> {
  requireInteger(initialCredits, "Initial credits", 0);
  for (let i = 0; i < guildIds.length; i += BATCH) {
    await createGuilds(db, guildIds.slice(i, i + BATCH), initialCredits);
  }
}

/** The rows and starting grants of guilds not seen before; `on conflict do nothing` keeps it safe to race. */
async function createGuilds(
  db: Database,
  guildIds: readonly string[],
  initialCredits: number,
): Promise<void> {
  if (guildIds.length === 0) return;
  const ids = sql.join(
    guildIds.map((id) => sql`(${id})`),
    sql`, `,
  );
  await db.execute(sql`
    with created as (
      insert into ${guilds} (id, balance)
      select id, ${initialCredits}::bigint from (values ${ids}) as wanted(id)
      on conflict (id) do nothing
      returning id, balance
    )
    insert into ${creditLedger} (guild_id, kind, amount, actor_id, reason)
    select id, 'grant', balance, ${SYSTEM_ACTOR}, 'starting credits' from created where balance > 0`);
}
