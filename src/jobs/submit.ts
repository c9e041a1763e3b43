import { setTimeout as sleep } from "node:timers/promises";
import { isConnectionError } from "../db/transient.js";
import { KlingError, KlingRequestError } from "../kling/errors.js";
import { failJob, tell } from "./fail.js";
import { firstCheckAt } from "./pacing.js";
import type { Failure } from "./port.js";
import { type JobRow, queuePlace, transitionJob } from "./repository.js";
import { storedRequest } from "./request.js";
import { backoff, type JobServices } from "./services.js";

/** How long a created task's id is kept, and its write retried, while the database does not answer. */
const STORE_TASK_RETRY_MS = 15 * 60_000;

/**
 * Send a pending job to the API. Only a job in `pending` whose lease this process holds moves on, so
 * two processes never submit the same job.
 */
export async function submitJob(s: JobServices, pending: JobRow): Promise<JobRow | undefined> {
  const job = await transitionJob(
    s.db,
    pending.id,
    "submitting",
    { attempts: pending.attempts + 1 },
    { from: ["pending"], owner: s.owner },
  );
  if (!job) return undefined;
  let taskId: string;
  try {
    taskId = (await s.kling.generate(storedRequest(job).generate)).taskId;
  } catch (err) {
    return submitFailed(s, job, err);
  }
  // Logged before the database records it, so a task is never untraceable if what follows fails.
  s.logger.info({ jobId: job.id, taskId, type: job.taskType }, "task created");
  const running = await storeTaskId(s, job, taskId);
  if (!running) {
    s.logger.error({ jobId: job.id, taskId }, "task created for a job that moved on meanwhile");
    return undefined;
  }
  await tell(s, running, (port) => port.progress(running, { elapsedMs: 0, estimateMs: undefined }));
  return running;
}

/**
 * The API made a task and charged for it: its id must reach the database, or the task is orphaned and the
 * job is later taken for an interrupted one and refunded. A lost connection is waited out (a database restart
 * takes seconds); the task id is logged at warn meanwhile, so an operator can reconcile if this process dies
 * too. Stored from `submitting` whoever holds the lease now: the lease may have run out during the outage.
 */
async function storeTaskId(s: JobServices, job: JobRow, taskId: string): Promise<JobRow | undefined> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const now = s.now();
    try {
      return await transitionJob(
        s.db,
        job.id,
        "running",
        {
          klingTaskId: taskId,
          submittedAt: now,
          attempts: 0,
          nextPollAt: await firstCheckAt(s, job, now),
          leaseOwner: null,
          leaseExpiresAt: null,
          lastEditAt: now,
        },
        { from: ["submitting"] },
      );
    } catch (err) {
      if (!isConnectionError(err) || Date.now() - started > STORE_TASK_RETRY_MS) {
        s.logger.error({ err, jobId: job.id, taskId }, "could not store a created task's id; reconcile it");
        throw err;
      }
      if (attempt === 0) {
        s.logger.warn(
          { err, jobId: job.id, taskId },
          "the database did not answer while storing a created task's id; retrying until it does",
        );
      }
      await sleep(Math.min(250 * 2 ** attempt, 5_000));
    }
  }
}

async function submitFailed(s: JobServices, job: JobRow, err: unknown): Promise<JobRow | undefined> {
  const kerr = err instanceof KlingError ? err : undefined;
  // Sent again only when the request surely never made a task: a 429 (the API refused it), or a failure
  // before its bytes left (a refused connection). A 5xx, a timeout or an unreadable answer after sending
  // may have made a task, and a second submit could make a second one: that job fails instead.
  const retry =
    kerr &&
    !kerr.maybeSubmitted &&
    (kerr.code === "RATE_LIMITED" || kerr.retryable) &&
    job.attempts < s.settings.maxSubmitAttempts;
  if (retry) {
    const delay = kerr.retryAfterMs ?? backoff(2_000, job.attempts, 60_000);
    s.logger.warn(
      { jobId: job.id, code: kerr.code, attempt: job.attempts, delay },
      "submit refused; will retry",
    );
    const back = await transitionJob(
      s.db,
      job.id,
      "pending",
      { nextPollAt: new Date(s.now().getTime() + delay), leaseOwner: null, leaseExpiresAt: null },
      { from: ["submitting"], owner: s.owner },
    );
    if (back) {
      const place = await queuePlace(s.db, back);
      await tell(s, back, (port) => port.waiting(back, { place }));
    }
    return back;
  }
  if (!kerr) s.logger.error({ err, jobId: job.id }, "submit failed unexpectedly");
  if (kerr?.code === "INSUFFICIENT_CREDITS") {
    s.logger.error(
      { jobId: job.id },
      "the Kling API account is out of credits: jobs fail until it is topped up",
    );
    s.alert({
      key: "kling-credits",
      text: "The Kling API account is out of credits: every new video fails (and is refunded) until it is topped up.",
    });
  }
  if (kerr?.code === "INVALID_API_KEY") {
    s.logger.error({ jobId: job.id }, "KLING_API_KEY was refused by the Kling API");
    s.alert({
      key: "kling-key",
      text: "The Kling API refused KLING_API_KEY: every new video fails (and is refunded) until the key is fixed.",
    });
  }
  if (kerr?.maybeSubmitted) {
    s.logger.warn(
      { err, jobId: job.id, code: kerr.code },
      "the API may have made a task for this job; it is not sent again",
    );
  }
  const failure: Failure = !kerr
    ? { code: "SUBMIT_ERROR", params: {} }
    : kerr.maybeSubmitted
      ? { code: "UNCONFIRMED", params: kerr.code === "TIMEOUT" ? { timedOut: true } : {} }
      : {
          code: kerr.code,
          // The API's own words about a refused request help the member fix it; other failures need none.
          params:
            kerr instanceof KlingRequestError && kerr.serverMessage
              ? { serviceMessage: kerr.serverMessage }
              : {},
        };
  return failJob(s, job, failure);
}

/** A job found in `submitting` whose lease ran out: its process died mid-submit. */
export async function resolveInterruptedSubmit(s: JobServices, job: JobRow): Promise<JobRow | undefined> {
  s.logger.warn({ jobId: job.id }, "job was interrupted while being submitted; releasing its credits");
  return failJob(s, job, { code: "INTERRUPTED", params: {} });
}
