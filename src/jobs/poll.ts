import { KlingError } from "../kling/errors.js";
import { expectedRunTimeMs } from "../kling/pricing.js";
import { isTaskType, type TaskStatus } from "../kling/types.js";
import { chargeOfFailure, noteChargedFailure } from "./charged-failures.js";
import { failJob, tell } from "./fail.js";
import { nextCheckAt } from "./pacing.js";
import type { ProgressFigures } from "./port.js";
import { type JobRow, releaseLease, transitionJob, typicalRunTimeMs } from "./repository.js";
import { storedRequest } from "./request.js";
import { backoff, type JobServices } from "./services.js";

/** Progress is shown in steps of this much, elapsed time and estimate alike. */
const PROGRESS_STEP_MS = 5_000;
/** How long a typical run time read from the finished jobs is kept before it is read again. */
const ESTIMATE_TTL_MS = 60_000;

/**
 * How long a job of this type takes: the median of the latest finished jobs of its type, or, before any has
 * finished, a first guess from the request's length. Only a median is cached: without one the next check
 * reads again, so the first finished job of a type counts at once.
 */
export async function estimateFor(s: JobServices, job: JobRow): Promise<number> {
  const now = s.now().getTime();
  const hit = s.estimates.get(job.taskType);
  if (hit && now - hit.at < ESTIMATE_TTL_MS) return hit.value;
  const value = await typicalRunTimeMs(s.db, job.taskType);
  if (value === undefined) return firstEstimate(job);
  s.estimates.set(job.taskType, { at: now, value });
  return value;
}

function firstEstimate(job: JobRow): number {
  const type = job.taskType;
  if (!isTaskType(type)) return expectedRunTimeMs("std-text-to-video");
  return expectedRunTimeMs(type, storedRequest(job).generate.duration);
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
    // A failed task the API charged for all the same: the server is refunded as always; the charge is kept
    // with the job and counted for the operators.
    const charged = chargeOfFailure(status.consumedCredits);
    const failed = await failJob(s, job, {
      code: "TASK_FAILED",
      params: { ...params, status: status.rawStatus, ...(charged ? { consumedCredits: charged } : {}) },
    });
    if (failed && charged) await noteChargedFailure(s, failed, charged);
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
 * Tell the adapter the job's progress when an edit is due and what it would show changed; returns what to
 * record of it.
 */
async function showProgress(
  s: JobServices,
  job: JobRow,
  now: Date,
  elapsedMs: number,
): Promise<Partial<JobRow>> {
  const last = job.lastEditAt ?? job.createdAt;
  if (now.getTime() - last.getTime() < s.settings.progressIntervalMs) return {};
  const figures = progressFigures(elapsedMs, await estimateFor(s, job));
  const shown = progressSignature(figures);
  if (shown === job.progress?.shown) return {};
  await tell(s, job, (port) => port.progress(job, figures));
  return { lastEditAt: now, progress: { shown, at: now.toISOString() } };
}

/**
 * What a progress message shows: the time since the job was sent and its estimate, each rounded to the same
 * 5 s step (the estimate at least one step), so that the time left on screen is exactly their difference.
 */
export function progressFigures(elapsedMs: number, estimateMs: number): ProgressFigures {
  const step = (ms: number) => Math.round(Math.max(ms, 0) / PROGRESS_STEP_MS) * PROGRESS_STEP_MS;
  return { elapsedMs: step(elapsedMs), estimateMs: Math.max(step(estimateMs), PROGRESS_STEP_MS) };
}

/** Everything a progress message shows follows from these two figures: an edit only when one changed. */
export function progressSignature(figures: ProgressFigures): string {
  return `${figures.elapsedMs}/${figures.estimateMs}`;
}
