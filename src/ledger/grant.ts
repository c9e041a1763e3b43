import type { Database } from "../db/database.js";
import { creditLedger, guilds } from "../db/schema.js";
import { addToBalance, lockedBalance } from "./balance.js";
import { LedgerError } from "./errors.js";

interface GrantInput {
  guildId: string;
  /** Credits to add; negative to take some away (never below zero). */
  amount: number;
  actorId: string;
  reason: string;
}

interface GrantResult {
  requested: number;
  /** The change actually made: equals `requested` unless a negative grant met a smaller balance. */
  applied: number;
  balance: number;
  entryId: number;
}

/**
 * Add (or with a negative amount, take away) credits by hand. Creates the guild with a zero balance if it
 * was never seen. A take-away larger than the balance empties it and records what was really taken.
 */
export async function grantCredits(db: Database, input: GrantInput): Promise<GrantResult> {
  const { guildId, amount, actorId, reason } = input;
  if (!Number.isSafeInteger(amount) || amount === 0) {
    throw new LedgerError("invalid_amount", `A grant must be a non-zero whole number, got ${amount}`);
  }
  return db.transaction(async (tx) => {
    await tx.insert(guilds).values({ id: guildId }).onConflictDoNothing();
    const current = await lockedBalance(tx, guildId);
    const applied = amount >= 0 ? amount : -Math.min(current, -amount);
    const balance = applied === 0 ? current : await addToBalance(tx, guildId, applied);
    const [entry] = await tx
      .insert(creditLedger)
      .values({
        guildId,
        kind: "grant",
        amount: applied,
        actorId,
        reason:
          applied === amount ? reason : `${reason} (asked to take ${-amount}, only ${-applied} available)`,
      })
      .returning({ id: creditLedger.id });
    return { requested: amount, applied, balance, entryId: entry!.id };
  });
}
