import { eq } from "drizzle-orm";
import { expect } from "vitest";
import type { Database } from "../../src/db/database.js";
import { creditLedger, guilds } from "../../src/db/schema.js";
import { checkInvariants } from "../../src/ledger/index.js";

let guildSeq = 0;
/** A guild id of its own for each test (a Discord-shaped snowflake), so tests sharing a database stay apart. */
export const newGuild = (): string =>
  `8${String(Date.now()).slice(-8)}${String(process.pid % 1000).padStart(3, "0")}${String(++guildSeq).padStart(6, "0")}`;

/** A guild's ledger rows, oldest first. */
export const ledgerOf = (db: Database, guildId: string) =>
  db.select().from(creditLedger).where(eq(creditLedger.guildId, guildId)).orderBy(creditLedger.id);

export async function guildRow(db: Database, guildId: string) {
  const [row] = await db.select().from(guilds).where(eq(guilds.id, guildId));
  return row;
}

/** Balance = sum of the ledger, balance ≥ 0, per job at most one of each movement. */
export async function expectInvariants(db: Database, guildId?: string): Promise<void> {
  expect(await checkInvariants(db, guildId)).toEqual({ ok: true, problems: [] });
}
