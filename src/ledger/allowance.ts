import { and, asc, eq, isNotNull, isNull, lt, or } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { creditLedger, guilds } from "../db/schema.js";
import { addToBalance } from "./balance.js";
import { requireInteger } from "./errors.js";

/** The actor of the ledger rows a monthly top-up writes. */
const ALLOWANCE_ACTOR = "allowance";

/** `YYYY-MM` of a time, in UTC: the unit of "once per month" (`guilds.allowance_month`). */
export function allowanceMonth(now: Date): string {
  return now.toISOString().slice(0, 7);
}

/**
 * When the next monthly top-up is due: the 1st of the month after `now`, 00:00 UTC. A scheduler must arm its
 * timer in steps: `setTimeout` takes at most 2^31 − 1 ms (24.8 days), less than a month.
 */
export function nextTopUp(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

interface SetAllowanceInput {
  guildId: string;
  /** Credits the balance is topped up to each month; null removes the allowance. */
  credits: number | null;
  actorId: string;
  /** The clock (default: the system's); decides which month counts as already served (see below). */
  now?: Date;
}

interface SetAllowanceResult {
  previous: number | null;
  allowance: number | null;
  /** False when the allowance already had this value: nothing was written. */
  changed: boolean;
  balance: number;
}

/**
 * Set or remove a guild's monthly allowance (creating the guild like a grant does). It moves no credits: the
 * first top-up comes at the next start of a month, never in the middle of one — a guild that gets an
 * allowance for the first time has its current month marked as served, so that a process starting mid-month
 * does not top it up at a moment that depends on restarts. A changed value applies from the next top-up
 * (or to this month's, if it is still due). The change is recorded as a zero-credit `grant` row with the
 * actor and the old and new values, so the ledger shows who set it.
 */
export async function setAllowance(db: Database, input: SetAllowanceInput): Promise<SetAllowanceResult> {
  const { guildId, credits, actorId } = input;
  if (credits !== null) requireInteger(credits, "A monthly allowance", 1);
  const month = allowanceMonth(input.now ?? new Date());
  return db.transaction(async (tx) => {
    await tx.insert(guilds).values({ id: guildId }).onConflictDoNothing();
    const [row] = await tx
      .select({
        balance: guilds.balance,
        allowance: guilds.monthlyAllowance,
        month: guilds.allowanceMonth,
      })
      .from(guilds)
      .where(eq(guilds.id, guildId))
      .for("no key update");
    if (!row) throw new Error(`Guild ${guildId} has no row`);
    const previous = row.allowance;
    if (previous === credits) return { previous, allowance: credits, changed: false, balance: row.balance };
    const firstAllowance = previous === null && credits !== null;
    await tx
      .update(guilds)
      .set({
        monthlyAllowance: credits,
        ...(firstAllowance && (row.month === null || row.month < month) ? { allowanceMonth: month } : {}),
      })
      .where(eq(guilds.id, guildId));
    await tx.insert(creditLedger).values({
      guildId,
      kind: "grant",
      amount: 0,
      actorId,
      reason:
        credits === null
          ? `monthly allowance removed (was ${previous})`
          : `monthly allowance set to ${credits} (was ${previous ?? "none"})`,
    });
    return { previous, allowance: credits, changed: true, balance: row.balance };
  });
}

interface TopUp {
  guildId: string;
  /** Credits added; 0 when the balance was already at or above the allowance (the month is recorded). */
  added: number;
}

/**
 * The monthly top-up: every guild with an allowance whose month `now` (UTC) is not served yet gets its
 * balance raised to the allowance (a `grant` row by `allowance`), or, when the balance is already at or
 * above it, only the month recorded. Exactly once per guild and month however many processes call this at
 * once: the month is a compare-and-set on `allowance_month`, in the same transaction as the balance update
 * and the ledger row. A month is never served after a later one (a process with a lagging clock does
 * nothing). Returns what this call did; guilds another caller served are not in it.
 */
export async function topUpAllowances(db: Database, now: Date): Promise<TopUp[]> {
  const month = allowanceMonth(now);
  const candidates = await db
    .select({ id: guilds.id })
    .from(guilds)
    .where(allowanceDue(month))
    .orderBy(asc(guilds.id));
  const done: TopUp[] = [];
  for (const { id } of candidates) {
    const added = await topUpGuild(db, id, month);
    if (added !== undefined) done.push({ guildId: id, added });
  }
  return done;
}

/** A guild with an allowance whose `month` is not served yet (`YYYY-MM` compares as text). */
function allowanceDue(month: string) {
  return and(
    isNotNull(guilds.monthlyAllowance),
    or(isNull(guilds.allowanceMonth), lt(guilds.allowanceMonth, month)),
  );
}

/** One guild's top-up for `month`; undefined when another caller served the month first. */
async function topUpGuild(db: Database, guildId: string, month: string): Promise<number | undefined> {
  return db.transaction(async (tx) => {
    // The compare-and-set: of concurrent callers, one moves the month; the others wait on the row, then
    // find the month served and update nothing. It locks the row, so the balance it returns stays as it is
    // until this transaction ends.
    const [claimed] = await tx
      .update(guilds)
      .set({ allowanceMonth: month })
      .where(and(eq(guilds.id, guildId), allowanceDue(month)))
      .returning({ allowance: guilds.monthlyAllowance, balance: guilds.balance });
    if (!claimed || claimed.allowance === null) return undefined;
    const added = Math.max(claimed.allowance - claimed.balance, 0);
    if (added > 0) {
      await addToBalance(tx, guildId, added);
      await tx.insert(creditLedger).values({
        guildId,
        kind: "grant",
        amount: added,
        actorId: ALLOWANCE_ACTOR,
        reason: `monthly allowance ${month}`,
      });
    }
    return added;
  });
}
