import { KlingError } from "../kling/errors.js";
import type { TaskStatus } from "../kling/types.js";
import { failJob, tell } from "./fail.js";
import { nextCheckAt } from "./pacing.js";
import { type JobRow, releaseLease, transitionJob, typicalRunTimeMs } from "./repository.js";
import { backoff, type JobServices } from "./services.js";

async function estimateFor(s: JobServices, taskType: string): Promise<number | undefined> {
  const hit = s.estimates.get(taskType);
  const now = s.now().getTime();
  if (hit && now - hit.at < 60_000) return hit.value;
  const value = await typicalRunTimeMs(s.db, taskType);
  s.estimates.set(taskType, { at: now, value });
  return value;
}

/** Check a running job's task; show progress, hand it to delivery, or fail it. */
export async function pollJob(s: JobServices, job: JobRow): Promise<void> {
  const now = s.now();
  const started = job.submittedAt ?? job.createdAt;
  const elapsedMs = now.getTime() - started.getTime();
  if (elapsedMs > s.settings.jobTimeoutMs) {
    await failJob(s, job, {
      code: "TIMED_OUT",
      params: { waitedMs: elapsedMs, limitMs: s.settings.jobTimeoutMs },
    });
    return;
  }
  let status: TaskStatus;
  try {
    status = await s.kling.status(job.klingTaskId!);
  } catch (err) {
    // A refused key is the operator's to fix: error, not a routine retry.
    const refused = err instanceof KlingError && err.code === "INVALID_API_KEY";
    s.logger[refused ? "error" : "warn"]({ err, jobId: job.id }, "status check failed; will try again");
    await releaseLease(
      s.db,
      job.id,
      s.owner,
      new Date(now.getTime() + backoff(s.settings.pollIntervalMs, job.attempts, 120_000)),
      job.attempts + 1,
    );
    return;
  }
  if (status.state === "failed") {
    const params = status.reason === undefined ? {} : { serviceReason: status.reason };
    await failJob(s, job, { code: "TASK_FAILED", params: { ...params, status: status.rawStatus } });
    return;
  }
  if (status.state === "unusable") {
    s.logger.warn({ jobId: job.id, taskId: job.klingTaskId }, "finished task without a usable video URL");
    await failJob(s, job, { code: "NO_VIDEO_URL", params: {} });
    return;
  }
  if (status.state === "succeeded") {
    // A charge the ledger cannot record (missing, fractional, negative) is settled at the estimate.
    const reported = status.consumedCredits;
    const charged =
      reported !== undefined && Number.isSafeInteger(reported) && reported >= 0
        ? reported
        : job.estimatedCost;
    // The credits stay held until the video is posted: one the bot cannot fetch is not charged.
    // Due at once, for the delivery slots, so a slow video host never holds a polling slot.
    await transitionJob(
      s.db,
      job.id,
      "delivering",
      {
        resultUrl: status.videoUrl,
        chargedCost: charged,
        finishedAt: now,
        attempts: 0,
        nextPollAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
      },
      { from: ["running"], owner: s.owner },
    );
    return;
  }
  const shown = await showProgress(s, job, now, elapsedMs);
  const next = await nextCheckAt(s, job, now);
  await releaseLease(s.db, job.id, s.owner, next, job.attempts + 1, shown);
}

/**
 * Tell the adapter the job's progress when an edit is due and what it would show changed (elapsed time in
 * 10 s steps, the estimate's share in 5 % steps); returns what to record of it.
 */
async function showProgress(
  s: JobServices,
  job: JobRow,
  now: Date,
  elapsedMs: number,
): Promise<Partial<JobRow>> {
  const last = job.lastEditAt ?? job.createdAt;
  if (now.getTime() - last.getTime() < s.settings.progressIntervalMs) return {};
  const estimateMs = await estimateFor(s, job.taskType);
  const shown = progressSignature(elapsedMs, estimateMs);
  if (shown === job.progress?.shown) return {};
  await tell(s, job, (port) => port.progress(job, { elapsedMs, estimateMs }));
  return { lastEditAt: now, progress: { shown, at: now.toISOString() } };
}

/** What a reader would notice of a progress message: elapsed time in 10 s steps, the share in 5 % steps. */
export function progressSignature(elapsedMs: number, estimateMs: number | undefined): string {
  const elapsed = Math.floor(elapsedMs / 10_000);
  if (!estimateMs || estimateMs <= 0) return `${elapsed}`;
  const share = Math.floor(Math.min(elapsedMs / estimateMs, 0.95) * 20);
  const left = Math.ceil(Math.max(estimateMs - elapsedMs, 0) / 10_000);
  return `${elapsed}:${share}:${left}`;
}
