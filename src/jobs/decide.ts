import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import { jobs } from "../db/schema.js";
import { releaseCredits } from "../ledger/index.js";
import { tell } from "./fail.js";
import type { Failure } from "./port.js";
import type { JobRow } from "./repository.js";
import type { JobServices } from "./services.js";

/**
 * Decisions about a job that has not reached the API: a manager approves or denies it, its requester or a
 * manager cancels it. Each is one compare-and-set, so two clicks at once (or from two processes) decide once.
 * Rights are checked by the caller; every query here is filtered by the guild.
 */

export type Decision = { kind: "done"; job: JobRow } | { kind: "gone" } | { kind: "too-late"; job: JobRow };

/** Approve a job waiting for a manager: it becomes due now. */
export async function approveJob(s: JobServices, guildId: string, jobId: number): Promise<Decision> {
  const [row] = await s.db
    .update(jobs)
    .set({ needsApproval: false, nextPollAt: s.now(), updatedAt: sql`now()` })
    .where(
      and(
        eq(jobs.id, jobId),
        eq(jobs.guildId, guildId),
        eq(jobs.state, "pending"),
        eq(jobs.needsApproval, true),
      ),
    )
    .returning();
  if (!row) return settledOrGone(s, guildId, jobId);
  await s.announce();
  return { kind: "done", job: row };
}

/** End a job that was never sent (denied, cancelled, or its approval wait ran out), returning its credits. */
export async function withdrawJob(
  s: JobServices,
  guildId: string,
  jobId: number,
  failure: Failure,
  options: { onlyAwaitingApproval?: boolean; owner?: string } = {},
): Promise<Decision> {
  const now = s.now();
  const row = await s.db.transaction(async (tx) => {
    const [ended] = await tx
      .update(jobs)
      .set({
        state: "failed",
        errorCode: failure.code,
        errorParams: failure.params,
        needsApproval: false,
        finishedAt: now,
        interactionToken: null,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(jobs.id, jobId),
          eq(jobs.guildId, guildId),
          eq(jobs.state, "pending"),
          options.onlyAwaitingApproval ? eq(jobs.needsApproval, true) : undefined,
          // Not while another poller holds it: it may be sending it to the API right now.
          or(
            isNull(jobs.leaseExpiresAt),
            lt(jobs.leaseExpiresAt, now),
            options.owner ? eq(jobs.leaseOwner, options.owner) : undefined,
          ),
        ),
      )
      .returning();
    if (!ended) return undefined;
    await releaseCredits(tx, { guildId, jobId, reason: failure.code });
    return ended;
  });
  if (!row) return settledOrGone(s, guildId, jobId);
  // The reply is edited after the decision committed: it is final, so telling late is harmless.
  await tell(s, row, (port) => port.failed(row, failure));
  s.logger.info({ jobId, code: failure.code }, "job withdrawn before it was sent; credits released");
  return { kind: "done", job: row };
}

async function settledOrGone(s: JobServices, guildId: string, jobId: number): Promise<Decision> {
  const [job] = await s.db
    .select()
    .from(jobs)
    .where(and(eq(jobs.id, jobId), eq(jobs.guildId, guildId)));
  return job ? { kind: "too-late", job } : { kind: "gone" };
}
