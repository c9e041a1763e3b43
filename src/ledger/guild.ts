import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { type Database, queryPrepared } from "../db/database.js";
import { creditLedger, type Guild, guilds } from "../db/schema.js";
import { requireInteger } from "./errors.js";
import { SYSTEM_ACTOR } from "./movements.js";
import { rawInteger } from "./raw.js";

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

/**
 * For a new job: lock the guild's row (created on first sight, with its starting grant, as `ensureGuild`)
 * and take its next job number, in one statement. The row stays locked to the end of the caller's
 * transaction, so the requests of one server are decided one after another; rolled back (a refusal), the
 * number is not used.
 */
const LOCK_FOR_JOB_SQL = `
with g as (
  insert into guilds as g (id, balance, last_job_number) values ($1::text, $2::bigint, 1)
  on conflict (id) do update set last_job_number = g.last_job_number + 1
  returning id, settings, balance, last_job_number, (xmax = 0) as created
), granted as (
  insert into credit_ledger (guild_id, kind, amount, actor_id, reason)
  select id, 'grant', balance, $3::text, 'starting credits' from g where created and balance > 0
)
select settings, balance, last_job_number as number from g`;

const lockedRow = z.object({ settings: z.unknown(), balance: rawInteger, number: rawInteger });

export interface LockedGuild {
  /** As stored (read it with `readSettings`). */
  settings: unknown;
  balance: number;
  /** The job number this request gets if it is accepted. */
  number: number;
}

export async function lockGuildForJob(
  tx: Database,
  guildId: string,
  initialCredits: number,
): Promise<LockedGuild> {
  requireInteger(initialCredits, "Initial credits", 0);
  const [row] = await queryPrepared(tx, "lock_guild_for_job", LOCK_FOR_JOB_SQL, [
    guildId,
    initialCredits,
    SYSTEM_ACTOR,
  ]);
  return lockedRow.parse(row);
}
