import type { Database } from "../db/database.js";
import { creditLedger } from "../db/schema.js";
import { addToBalance, getBalance } from "./balance.js";
import { LedgerError } from "./errors.js";
import { lockJobMovements } from "./movements.js";

interface ReleaseInput {
  guildId: string;
  jobId: number;
  reason: string;
}

interface ReleaseResult {
  /**
   * released: the hold went back to the balance now; already_released: by an earlier call;
   * nothing_held: the job never held credits, so there was nothing to give back.
   */
  status: "released" | "already_released" | "nothing_held";
  released: number;
  balance: number;
}

/** Give a job's hold back in full. Idempotent; refused (`already_captured`) once the job was captured. */
export async function releaseCredits(db: Database, input: ReleaseInput): Promise<ReleaseResult> {
  const { guildId, jobId, reason } = input;
  return db.transaction(async (tx) => {
    const m = await lockJobMovements(tx, guildId, jobId);
    if (m.capture)
      throw new LedgerError("already_captured", `Job ${jobId} was captured; it cannot be released`);
    if (m.release) {
      return {
        status: "already_released",
        released: m.release.amount,
        balance: await getBalance(tx, guildId),
      };
    }
    if (!m.hold) return { status: "nothing_held", released: 0, balance: await getBalance(tx, guildId) };
    const released = -m.hold.amount;
    const balance = await addToBalance(tx, guildId, released);
    await tx
      .insert(creditLedger)
      .values({ guildId, userId: m.userId, jobId, kind: "release", amount: released, reason });
    return { status: "released", released, balance };
  });
}
