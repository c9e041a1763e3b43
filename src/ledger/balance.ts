import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { guilds } from "../db/schema.js";

export async function getBalance(db: Database, guildId: string): Promise<number> {
  const [row] = await db.select({ balance: guilds.balance }).from(guilds).where(eq(guilds.id, guildId));
  return row?.balance ?? 0;
}

/** The balance, with the guild row locked until the transaction ends (so an adjustment can rely on it). */
export async function lockedBalance(tx: Database, guildId: string): Promise<number> {
  const [row] = await tx
    .select({ balance: guilds.balance })
    .from(guilds)
    .where(eq(guilds.id, guildId))
    .for("no key update");
  if (!row) throw new Error(`Guild ${guildId} has no row`);
  return row.balance;
}

/** Change the balance by `delta` and return the new one. The caller writes the matching ledger row. */
export async function addToBalance(tx: Database, guildId: string, delta: number): Promise<number> {
  const [row] = await tx
    .update(guilds)
    .set({ balance: sql`${guilds.balance} + ${delta}::bigint` })
    .where(eq(guilds.id, guildId))
    .returning({ balance: guilds.balance });
  if (!row) throw new Error(`Guild ${guildId} has no row`);
  return row.balance;
}
