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
  await db.execute(sql`
    with created as (
      insert into ${guilds} (id, balance) values (${guildId}, ${initialCredits}::bigint)
      on conflict (id) do nothing
      returning id, balance
    )
    insert into ${creditLedger} (guild_id, kind, amount, actor_id, reason)
    select id, 'grant', balance, ${SYSTEM_ACTOR}, 'starting credits' from created where balance > 0`);
  const [row] = await db.select().from(guilds).where(eq(guilds.id, guildId));
  if (!row) throw new Error(`Guild ${guildId} vanished right after it was created`);
  return row;
}
