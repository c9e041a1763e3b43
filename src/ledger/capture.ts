import { and, eq } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { creditLedger, jobs } from "../db/schema.js";
import { addToBalance, getBalance, lockedBalance } from "./balance.js";
import { LedgerError, requireInteger } from "./errors.js";
import { lockJobMovements, SYSTEM_ACTOR } from "./movements.js";

interface CaptureInput {
  guildId: string;
  jobId: number;
  /** What the API really charged for the job. */
  charged: number;
}

interface CaptureResult {
  /** True when this job had been captured before; nothing was written and the figures are the first ones. */
  alreadyCaptured: boolean;
  held: number;
  charged: number;
  /** Unused part of the hold given back. */
  refunded: number;
  /** Extra credits taken because the API charged more than was held. */
  adjusted: number;
  /** Part of that excess the balance could not cover. */
  shortfall: number;
  /** The API charged more than was held: a moderator should look at it. */
  flagged: boolean;
  balance: number;
}

/**
 * The balance once a job's hold of `held` is settled to `charged`, as `captureCredits` does it: the unused part
 * comes back; an excess is taken as far as the balance goes.
 */
export function balanceAfterCapture(balance: number, held: number, charged: number): number {
  const back = balance + Math.max(held - charged, 0);
  return back - Math.min(Math.max(charged - held, 0), back);
}

/**
 * Settle a job's hold to what the API charged: a `capture` row gives back the unused part; if the API
 * charged more than was held, an `adjustment` row takes the excess (as much as the balance has) and is
 * flagged. Sets `jobs.charged_cost`. Idempotent; refused after a release.
 */
export async function captureCredits(db: Database, input: CaptureInput): Promise<CaptureResult> {
  const { guildId, jobId, charged } = input;
  requireInteger(charged, "A charge", 0);
  return db.transaction(async (tx) => {
    const m = await lockJobMovements(tx, guildId, jobId);
    if (m.release)
      throw new LedgerError("already_released", `Job ${jobId} was released; it cannot be captured`);
    if (!m.hold) throw new LedgerError("no_hold", `Job ${jobId} holds no credits to capture`);
    const held = -m.hold.amount;
    if (m.capture) {
      const adjusted = -(m.adjustment?.amount ?? 0);
      const recorded = m.chargedCost ?? held - m.capture.amount + adjusted;
      return {
        alreadyCaptured: true,
        held,
        charged: recorded,
        refunded: m.capture.amount,
        adjusted,
        shortfall: Math.max(recorded - held - adjusted, 0),
        flagged: m.adjustment?.flagged ?? false,
        balance: await getBalance(tx, guildId),
      };
    }
    const refunded = Math.max(held - charged, 0);
    const excess = Math.max(charged - held, 0);
    let balance = refunded > 0 ? await addToBalance(tx, guildId, refunded) : await lockedBalance(tx, guildId);
    await tx
      .insert(creditLedger)
      .values({ guildId, userId: m.userId, jobId, kind: "capture", amount: refunded });
    let adjusted = 0;
    if (excess > 0) {
      adjusted = Math.min(excess, balance);
      if (adjusted > 0) balance = await addToBalance(tx, guildId, -adjusted);
      const shortfall = excess - adjusted;
      await tx.insert(creditLedger).values({
        guildId,
        userId: m.userId,
        jobId,
        kind: "adjustment",
        amount: -adjusted,
        actorId: SYSTEM_ACTOR,
        flagged: true,
        reason:
          `The video service charged ${charged} credits, ${excess} more than the ${held} held` +
          (shortfall > 0 ? `; only ${adjusted} could be taken, ${shortfall} short` : ""),
      });
    }
    await tx
      .update(jobs)
      .set({ chargedCost: charged })
      .where(and(eq(jobs.id, jobId), eq(jobs.guildId, guildId)));
    return {
      alreadyCaptured: false,
      held,
      charged,
      refunded,
      adjusted,
      shortfall: excess - adjusted,
      flagged: excess > 0,
      balance,
    };
  });
}
