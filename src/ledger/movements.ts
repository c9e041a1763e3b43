import { and, eq } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { creditLedger, jobs, type LedgerEntry } from "../db/schema.js";
import { jobNotFound } from "./errors.js";

/** The actor of the ledger rows the bot writes by itself (starting credits, adjustments). */
export const SYSTEM_ACTOR = "system";

interface JobMovements {
  userId: string;
  chargedCost: number | null;
  hold: LedgerEntry | undefined;
  capture: LedgerEntry | undefined;
  release: LedgerEntry | undefined;
  adjustment: LedgerEntry | undefined;
}

/**
 * Lock the job (scoped to the guild) and read its movements. `for no key update` serialises settlements of
 * one job without blocking the foreign-key checks (`for key share`) that ledger inserts take on the row.
 */
export async function lockJobMovements(tx: Database, guildId: string, jobId: number): Promise<JobMovements> {
  const [job] = await tx
    .select({ userId: jobs.userId, chargedCost: jobs.chargedCost })
    .from(jobs)
    .where(and(eq(jobs.id, jobId), eq(jobs.guildId, guildId)))
    .for("no key update");
  if (!job) throw jobNotFound(guildId, jobId);
  const rows = await tx
    .select()
    .from(creditLedger)
    .where(and(eq(creditLedger.guildId, guildId), eq(creditLedger.jobId, jobId)));
  const of = (kind: LedgerEntry["kind"]) => rows.find((r) => r.kind === kind);
  return {
    userId: job.userId,
    chargedCost: job.chargedCost,
    hold: of("hold"),
    capture: of("capture"),
    release: of("release"),
    adjustment: of("adjustment"),
  };
}
