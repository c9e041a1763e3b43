import { setTimeout as sleep } from "node:timers/promises";
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { jobs } from "../db/schema.js";
import { isConnectionError } from "../db/transient.js";
import * as render from "../discord/render.js";
import { isTooLarge, type Replies, type ReplyTarget, type SentReply } from "../discord/replies.js";
import type { KlingApi } from "../kling/client.js";
import { KlingError } from "../kling/errors.js";
import { costOfRequest } from "../kling/pricing.js";
import type { TaskStatus } from "../kling/types.js";
import { captureCredits, ensureGuild, getBalance, releaseCredits, reserveCredits } from "../ledger/ledger.js";
import type { Logger } from "../log.js";
import { DownloadError, type VideoFetcher } from "./download.js";
import {
  findJobByInteraction,
  type JobRow,
  releaseLease,
  renewLease,
  type StoredRequest,
  storedRequest,
  transitionJob,
  typicalRunTimeMs,
} from "./repository.js";

/**
 * The life of a video job, from an accepted command to a delivered clip. Knows the database, the API
 * client and the reply sender through the interfaces it is handed; it never imports discord.js.
 */

export interface JobSettings {
  pollIntervalMs: number;
  progressIntervalMs: number;
  jobTimeoutMs: number;
  maxVideoBytes: number;
  defaultGuildCredits: number;
  /** How long a claimed job stays this process's before another may take it over. */
  leaseMs: number;
  /** How many times a submit that surely never reached the API (a 429, a refused connection) is tried. */
  maxSubmitAttempts: number;
}

export interface JobServices {
  db: Database;
  kling: KlingApi;
  replies: Replies;
  download: VideoFetcher;
  logger: Logger;
  /** Aborted when the process stops: downloads and waits end at once, their jobs stay for the next poller. */
  signal: AbortSignal;
  now: () => Date;
  /** This process's lease owner name. */
  owner: string;
  /** Typical run time per task type, cached for a minute (the estimate of time left). */
  estimates: Map<string, { at: number; value: number | undefined }>;
  settings: JobSettings;
}

/** Discord's default attachment limit when the interaction does not say (10 MiB since 2025). */
export const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;
/** Tries to post a finished video before the job is closed without it (its link stays in /video status). */
const MAX_DELIVERY_ATTEMPTS = 6;
/** Tries to fetch a finished video from the API's host before the job fails and its credits go back. */
export const MAX_DOWNLOAD_ATTEMPTS = 3;
/** How long a created task's id is kept, and its write retried, while the database does not answer. */
const STORE_TASK_RETRY_MS = 15 * 60_000;
/** One request to Discord carries at most 25 MiB; leave room for the JSON part. */
const REQUEST_BODY_LIMIT = 25 * 1024 * 1024 - 64 * 1024;

export function jobSummary(job: JobRow): render.JobSummary {
  const req = storedRequest(job);
  return { id: job.id, userId: job.userId, display: req.display, estimatedCost: job.estimatedCost };
}

export function replyTarget(job: JobRow): ReplyTarget {
  return {
    jobId: job.id,
    applicationId: job.applicationId,
    interactionToken: job.interactionToken,
    tokenExpiresAt: job.tokenExpiresAt,
    channelId: job.replyChannelId ?? job.channelId,
    messageId: job.replyMessageId,
    userId: job.userId,
  };
}

export interface AcceptInput {
  interactionId: string;
  guildId: string;
  channelId: string;
  userId: string;
  applicationId: string;
  interactionToken: string;
  tokenExpiresAt: Date;
  request: Omit<StoredRequest, "delivery">;
  delivery: StoredRequest["delivery"];
}

export type AcceptResult =
  | { kind: "accepted"; job: JobRow; balance: number }
  | { kind: "duplicate"; job: JobRow }
  | { kind: "insufficient"; cost: number; balance: number };

class Refused extends Error {
  readonly balance: number;
  constructor(balance: number) {
    super("insufficient credits");
    this.balance = balance;
  }
}

/**
 * Store the job and hold its estimated cost, in one transaction: either both happen or neither.
 * The interaction id is the idempotency key, so a redelivered interaction finds its job instead.
 */
export async function acceptVideoRequest(s: JobServices, input: AcceptInput): Promise<AcceptResult> {
  const estimated = costOfRequest(input.request.generate);
  await ensureGuild(s.db, input.guildId, s.settings.defaultGuildCredits);
  const now = s.now();
  try {
    return await s.db.transaction(async (tx) => {
      const [job] = await tx
        .insert(jobs)
        .values({
          interactionId: input.interactionId,
          guildId: input.guildId,
          channelId: input.channelId,
          userId: input.userId,
          request: { ...input.request, delivery: input.delivery } satisfies StoredRequest,
          taskType: input.request.generate.type,
          estimatedCost: estimated,
          state: "pending",
          nextPollAt: now,
          // Ours until submitted: the poller of another process leaves it alone meanwhile.
          leaseOwner: s.owner,
          leaseExpiresAt: new Date(now.getTime() + s.settings.leaseMs),
          applicationId: input.applicationId,
          interactionToken: input.interactionToken,
          tokenExpiresAt: input.tokenExpiresAt,
          replyChannelId: input.channelId,
          createdAt: now,
        })
        .onConflictDoNothing({ target: jobs.interactionId })
        .returning();
      if (!job) return { kind: "duplicate", job: (await findJobByInteraction(tx, input.interactionId))! };
      const held = await reserveCredits(tx, {
        guildId: input.guildId,
        userId: input.userId,
        jobId: job.id,
        amount: estimated,
      });
      if (!held.ok) throw new Refused(held.balance);
      return { kind: "accepted", job, balance: held.balance };
    });
  } catch (err) {
    if (err instanceof Refused) return { kind: "insufficient", cost: estimated, balance: err.balance };
    throw err;
  }
}

/** Remember the reply's message id, so it can be edited through the channel after the token expires. */
async function rememberMessage(s: JobServices, job: JobRow, messageId: string | undefined): Promise<void> {
  if (!messageId || job.replyMessageId === messageId) return;
  job.replyMessageId = messageId;
  await s.db.update(jobs).set({ replyMessageId: messageId }).where(ofJob(job));
}

function ofJob(job: JobRow) {
  return and(eq(jobs.id, job.id), eq(jobs.guildId, job.guildId));
}

async function sendReply(
  s: JobServices,
  job: JobRow,
  build: (pingUserId?: string) => render.ReplyMessage,
  postIfGone = false,
): Promise<void> {
  try {
    const sent = await s.replies.edit(replyTarget(job), build, { postIfGone });
    await rememberMessage(s, job, sent.messageId);
  } catch (err) {
    // A reply that cannot be shown must not undo the job's accounting; it is logged and the job goes on.
    s.logger.warn({ err, jobId: job.id }, "could not update the reply");
  }
}

/**
 * Run one step of a job while keeping its lease alive, so a slow API call or download is not mistaken for
 * a dead process and taken over by another poller.
 */
export async function withLease<T>(s: JobServices, jobId: number, step: () => Promise<T>): Promise<T> {
  const every = Math.max(100, Math.floor(s.settings.leaseMs / 3));
  const timer = setInterval(() => {
    renewLease(s.db, jobId, s.owner, new Date(s.now().getTime() + s.settings.leaseMs)).catch((err) =>
      s.logger.warn({ err, jobId }, "could not renew a job's lease"),
    );
  }, every);
  try {
    return await step();
  } finally {
    clearInterval(timer);
  }
}

function backoff(base: number, attempt: number, cap: number): number {
  const raw = Math.min(base * 1.5 ** attempt, cap);
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

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
  const req = storedRequest(job);
  let created: { taskId: string; status: TaskStatus };
  try {
    created = await s.kling.generate(req.generate);
  } catch (err) {
    return handleSubmitError(s, job, err);
  }
  // Logged before the database records it, so a task is never untraceable if what follows fails.
  s.logger.info({ jobId: job.id, taskId: created.taskId, type: job.taskType }, "task created");
  const running = await storeTaskId(s, job, created.taskId);
  if (!running) {
    s.logger.error(
      { jobId: job.id, taskId: created.taskId },
      "task created for a job that moved on meanwhile",
    );
    return undefined;
  }
  const balance = await getBalance(s.db, job.guildId);
  await sendReply(s, running, () => render.queued(jobSummary(running), balance, req.delivery.warnings ?? []));
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
          nextPollAt: new Date(now.getTime() + s.settings.pollIntervalMs),
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

async function handleSubmitError(s: JobServices, job: JobRow, err: unknown): Promise<JobRow | undefined> {
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
    return back;
  }
  if (!kerr) s.logger.error({ err, jobId: job.id }, "submit failed unexpectedly");
  if (kerr?.maybeSubmitted) {
    s.logger.warn(
      { err, jobId: job.id, code: kerr.code },
      "the API may have made a task for this job; it is not sent again",
    );
  }
  const reason = kerr
    ? kerr.code === "TIMEOUT"
      ? "The video service did not answer in time, so I can't tell whether it started this video. I stopped it here rather than risk making it twice. You can simply try again."
      : kerr.maybeSubmitted
        ? "The video service could not confirm this request, so I stopped it here rather than risk making it twice. You can simply try again."
        : kerr.userMessage
    : "Something went wrong while sending this video to the video service.";
  return failJob(
    s,
    job,
    kerr?.maybeSubmitted && kerr.code !== "TIMEOUT" ? "UNCONFIRMED" : (kerr?.code ?? "SUBMIT_ERROR"),
    reason,
  );
}

/** End a job without a video: the reply says so, then the refund and the final state commit together. */
export async function failJob(
  s: JobServices,
  job: JobRow,
  code: string,
  reason: string,
): Promise<JobRow | undefined> {
  // The reply first, then the refund and the final state together: if the process dies in between, the job
  // is still active and the next poller does both again (the reply is an edit, so it shows once). The other
  // order could leave a refunded job whose reply says "queued" forever.
  const summary = jobSummary(job);
  await sendReply(s, job, (ping) => render.failed(summary, reason, ping), true);
  const failed = await s.db.transaction(async (tx) => {
    // Only from the state the caller saw, and only while this process holds the job.
    const row = await transitionJob(
      tx,
      job.id,
      "failed",
      {
        errorCode: code,
        errorMessage: reason,
        finishedAt: s.now(),
        leaseOwner: null,
        leaseExpiresAt: null,
        interactionToken: null,
      },
      { from: [job.state], owner: s.owner },
    );
    if (!row) return undefined;
    await releaseCredits(tx, { guildId: job.guildId, jobId: job.id, reason: code });
    return row;
  });
  if (failed) s.logger.info({ jobId: job.id, code }, "job failed; credits released");
  return failed;
}

/** A job found in `submitting` whose lease ran out: its process died mid-submit. */
export async function resolveInterruptedSubmit(s: JobServices, job: JobRow): Promise<JobRow | undefined> {
  s.logger.warn({ jobId: job.id }, "job was interrupted while being submitted; releasing its credits");
  return failJob(
    s,
    job,
    "INTERRUPTED",
    "The bot restarted while sending this video to the video service and cannot tell whether it arrived. I stopped it here to be safe.",
  );
}

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
    await failJob(
      s,
      job,
      "TIMEOUT",
      `The video service has been working on this video for ${render.formatDuration(elapsedMs)}, longer than the ${render.formatDuration(s.settings.jobTimeoutMs)} I wait, so I stopped waiting.`,
    );
    return;
  }
  let status: TaskStatus;
  try {
    status = await s.kling.status(job.klingTaskId!);
  } catch (err) {
    s.logger.warn({ err, jobId: job.id }, "status check failed; will try again");
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
    await failJob(s, job, "TASK_FAILED", `The video service could not make this video: ${status.reason}`);
    return;
  }
  if (status.state === "unusable") {
    s.logger.warn({ jobId: job.id, taskId: job.klingTaskId }, "finished task without a usable video URL");
    await failJob(
      s,
      job,
      "NO_VIDEO_URL",
      "The video service reported this video as finished but gave no link I can fetch it from.",
    );
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
  const shown = await showProgress(s, job, now);
  const next = new Date(
    now.getTime() +
      backoff(s.settings.pollIntervalMs, Math.min(job.attempts, 8), s.settings.pollIntervalMs * 6),
  );
  await releaseLease(s.db, job.id, s.owner, next, job.attempts + 1, shown);
}

/** Edit the reply with the job's progress when it is due and changed; returns what to record of it. */
async function showProgress(s: JobServices, job: JobRow, now: Date): Promise<Partial<JobRow>> {
  const last = job.lastEditAt ?? job.createdAt;
  if (now.getTime() - last.getTime() < s.settings.progressIntervalMs) return {};
  const started = job.submittedAt ?? job.createdAt;
  const message = render.progress(jobSummary(job), {
    elapsedMs: now.getTime() - started.getTime(),
    estimateMs: await estimateFor(s, job.taskType),
    stateLabel: "Generating",
  });
  const text = JSON.stringify(message);
  if (text === job.progress?.text) return {};
  await sendReply(s, job, () => message);
  return { lastEditAt: now, progress: { text, at: now.toISOString() } };
}

/** Settle what the API charged for a delivered job, with its final state, in one transaction. */
async function completeJob(s: JobServices, job: JobRow, patch: Partial<JobRow>): Promise<JobRow | undefined> {
  const charged = job.chargedCost ?? job.estimatedCost;
  return s.db.transaction(async (tx) => {
    const row = await transitionJob(
      tx,
      job.id,
      "completed",
      { ...patch, interactionToken: null, leaseOwner: null, leaseExpiresAt: null },
      { from: ["delivering"], owner: s.owner },
    );
    if (!row) return undefined;
    const settled = await captureCredits(tx, { guildId: job.guildId, jobId: job.id, charged });
    if (settled.flagged)
      s.logger.warn({ jobId: job.id, charged, held: job.estimatedCost }, "API charged more than held");
    return row;
  });
}

/** Download the finished video and put it in the reply (or link it, saying why), then complete the job. */
export async function deliverJob(s: JobServices, job: JobRow): Promise<JobRow | undefined> {
  const target = replyTarget(job);
  const req = storedRequest(job);
  // A channel post after the token expired does not get the requester's Nitro upload limit.
  const discordLimit = s.replies.tokenUsable(target)
    ? (req.delivery.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_LIMIT)
    : DEFAULT_ATTACHMENT_LIMIT;
  const limit = Math.min(discordLimit, REQUEST_BODY_LIMIT, s.settings.maxVideoBytes);
  const summary = jobSummary(job);
  const charged = job.chargedCost ?? job.estimatedCost;
  const tookMs = (job.finishedAt ?? s.now()).getTime() - job.createdAt.getTime();
  const url = job.resultUrl!;
  let view: render.DeliveredView;
  try {
    const dl = await s.download.fetch(url, { maxBytes: limit, signal: s.signal });
    view =
      dl.kind === "file"
        ? {
            charged,
            tookMs,
            file: { name: `video-${job.id}.${dl.extension}`, data: dl.data, contentType: dl.contentType },
          }
        : {
            charged,
            tookMs,
            link: {
              url,
              why: `it is larger than the ${Math.floor(limit / 1024 / 1024)} MiB upload limit here`,
            },
          };
  } catch (err) {
    if (!(err instanceof DownloadError)) throw err;
    return downloadFailed(s, job, err);
  }
  const post = (v: render.DeliveredView) =>
    s.replies.edit(target, (pingUserId) => render.delivered(summary, { ...v, pingUserId }), {
      postIfGone: true,
    });
  let sent: SentReply;
  try {
    sent = await post(view);
  } catch (err) {
    if (!(view.file && isTooLarge(err))) return retryDelivery(s, job, err);
    // Discord refused the file after all: link it instead, at once.
    view = { charged, tookMs, link: { url, why: "Discord refused the file as too large" } };
    sent = await post(view);
  }
  const done = await completeJob(s, job, { replyMessageId: sent.messageId ?? job.replyMessageId });
  s.logger.info({ jobId: job.id, route: sent.route, attached: Boolean(view.file) }, "video delivered");
  return done;
}

/**
 * The finished video could not be fetched. A failure that may pass (a 5xx, a broken connection, a slow host)
 * is tried again a few times; then, or at once for what never passes (not https, a non-public address, not a
 * video), the job fails and its credits go back: the server never pays for a video it does not get.
 */
async function downloadFailed(s: JobServices, job: JobRow, err: DownloadError): Promise<JobRow | undefined> {
  if (err.failure === "cancelled") {
    // The process is stopping: the job stays as it is for the next poller, with no attempt counted.
    await releaseLease(s.db, job.id, s.owner, s.now());
    return undefined;
  }
  const attempt = job.attempts + 1;
  if (err.retryable && attempt < MAX_DOWNLOAD_ATTEMPTS) {
    const delay = backoff(s.settings.pollIntervalMs, attempt, 60_000);
    s.logger.warn(
      { err, jobId: job.id, failure: err.failure, attempt, delay },
      "could not fetch the finished video; will try again",
    );
    await releaseLease(s.db, job.id, s.owner, new Date(s.now().getTime() + delay), attempt);
    return undefined;
  }
  s.logger.warn(
    { err, jobId: job.id, taskId: job.klingTaskId, failure: err.failure, attempt },
    "could not fetch the finished video; the job fails and its credits go back",
  );
  return failJob(s, job, "VIDEO_UNAVAILABLE", videoUnavailableReason(err));
}

function videoUnavailableReason(err: DownloadError): string {
  const why =
    err.failure === "http-status"
      ? `its host answered HTTP ${err.httpStatus}${err.httpStatus === 403 || err.httpStatus === 404 || err.httpStatus === 410 ? " (the link may have expired)" : ""}`
      : err.failure === "not-a-video"
        ? "what its link served is not a video file"
        : err.failure === "private-address" ||
            err.failure === "not-https" ||
            err.failure === "too-many-redirects"
          ? "its link points somewhere I do not download from"
          : err.failure === "timed-out" || err.failure === "too-slow"
            ? "its host was too slow"
            : "its host could not be reached";
  return `The video was made, but I could not fetch it: ${why}.`;
}

/**
 * A delivery Discord refused: try again later with growing pauses, and after the last attempt stop, so a
 * reply that cannot be written does not cost invalid requests forever. The credits are captured: the video
 * was made and fetched, and its link is in `/video status`.
 */
async function retryDelivery(s: JobServices, job: JobRow, err: unknown): Promise<JobRow | undefined> {
  const attempt = job.attempts + 1;
  if (attempt >= MAX_DELIVERY_ATTEMPTS) {
    s.logger.error({ err, jobId: job.id, attempt }, "could not deliver the video; giving up");
    return completeJob(s, job, {
      errorCode: "DELIVERY_FAILED",
      errorMessage: "The video was made, but I could not post it in the channel.",
    });
  }
  const delay = backoff(5_000, attempt, 300_000);
  s.logger.warn({ err, jobId: job.id, attempt, delay }, "could not deliver the video; will try again");
  await releaseLease(s.db, job.id, s.owner, new Date(s.now().getTime() + delay), attempt);
  return undefined;
}
