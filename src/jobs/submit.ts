import { setTimeout as sleep } from "node:timers/promises";
import { isConnectionError } from "../db/transient.js";
import { KlingCancelledError, KlingError, KlingRequestError } from "../kling/errors.js";
import { failJob, tell } from "./fail.js";
import { firstCheckAt } from "./pacing.js";
import { estimateFor, progressFigures } from "./poll.js";
import type { Failure } from "./port.js";
import { queuePlace } from "./queue.js";
import { type JobRow, transitionJob } from "./repository.js";
import { storedRequest } from "./request.js";
import { backoff, type JobServices } from "./services.js";

/** How long a created task's id is kept, and its write retried, while the database does not answer. */
const STORE_TASK_RETRY_MS = 15 * 60_000;

/**
 * Send a waiting job to the API. The job is marked `submitting` only once its rate-limit token is in hand,
 * right before the request leaves: a job still waiting for a token stays `pending` (a stop leaves it queued).
 * Only a job in `pending` whose lease this process holds moves on, so two processes never submit the same job.
 */
export async function submitJob(s: JobServices, pending: JobRow): Promise<JobRow | undefined> {
  let job: JobRow | undefined;
  let taskId: string;
  try {
    const created = await s.kling.generate(storedRequest(pending).generate, {
      stopWaiting: s.signal,
      // A refusal puts the job back in the queue (below) instead of holding its place while it waits.
      retry: false,
      beforeSend: async () => {
        job = await transitionJob(
          s.db,
          pending.id,
          "submitting",
          { attempts: pending.attempts + 1 },
          { from: ["pending"], owner: s.owner },
        );
        if (!job) throw new MovedOn();
      },
    });
    taskId = created.taskId;
  } catch (err) {
    // Never marked: nothing was sent, and the job keeps its place (a stop, or it was cancelled meanwhile).
    if (!job) {
      if (!(err instanceof MovedOn) && !s.signal.aborted) throw err;
      return undefined;
    }
    return submitFailed(s, job, err);
  }
  // Logged before the database records it, so a task is never untraceable if what follows fails.
  s.logger.info({ jobId: pending.id, taskId, type: pending.taskType }, "task created");
  const running = await storeTaskId(s, job!, taskId);
  if (!running) {
    s.logger.error({ jobId: pending.id, taskId }, "task created for a job that moved on meanwhile");
    return undefined;
  }
  const figures = progressFigures(0, await estimateFor(s, running));
  await tell(s, running, (port) => port.progress(running, figures));
  return running;
}

/** The job left `pending` (or this process's lease) while its submit waited for a token. */
class MovedOn extends Error {
  constructor() {
    super("the job moved on before it was sent");
  }
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
  const pause = requeuePause(s, job, kerr);
  if (pause !== undefined) {
    s.logger.warn(
      { jobId: job.id, code: kerr?.code, attempt: job.attempts, pauseMs: pause },
      "submit refused; the job goes back in the queue",
    );
    const back = await transitionJob(
      s.db,
      job.id,
      "pending",
      { nextPollAt: new Date(s.now().getTime() + pause), leaseOwner: null, leaseExpiresAt: null },
      { from: ["submitting"], owner: s.owner },
    );
    if (back) {
      const place = await queuePlace(s.db, back, s.now());
      if (place !== undefined) await tell(s, back, (port) => port.waiting(back, { place, why: "slowed" }));
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

/**
 * How long a refused submit waits before it is tried again, or undefined when it must not be. Only what surely
 * made no task goes back: a 429 (the account's rate or task limit: always, the wait growing to a minute), the
 * API's documented 500 "try again later", a failure before the request left, or a stop while waiting to retry
 * (these up to `maxSubmitAttempts`). A 5xx, a timeout or an unreadable answer after sending may have made a
 * task, and a second submit could make a second one: that job fails instead.
 */
function requeuePause(s: JobServices, job: JobRow, kerr: KlingError | undefined): number | undefined {
  if (!kerr || kerr.maybeSubmitted) return undefined;
  if (kerr instanceof KlingCancelledError) return 0;
  if (kerr.code === "RATE_LIMITED")
    return kerr.retryAfterMs ?? backoff(2_000, Math.min(job.attempts, 10), 60_000);
  if (kerr.retryable && job.attempts < s.settings.maxSubmitAttempts) {
    return kerr.retryAfterMs ?? backoff(2_000, job.attempts, 60_000);
  }
  return undefined;
}

/** A job found in `submitting` whose lease ran out: its process died mid-submit. */
export async function resolveInterruptedSubmit(s: JobServices, job: JobRow): Promise<JobRow | undefined> {
  s.logger.warn({ jobId: job.id }, "job was interrupted while being submitted; releasing its credits");
  return failJob(s, job, { code: "INTERRUPTED", params: {} });
}
