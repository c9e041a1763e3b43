import { and, eq } from "drizzle-orm";
import type { Dispatcher } from "undici";
import type { Database } from "../db/database.js";
import { jobs } from "../db/schema.js";
import * as render from "../discord/render.js";
import { isTooLarge, type Replies, type ReplyTarget, type SentReply } from "../discord/replies.js";
import type { KlingApi } from "../kling/client.js";
import { KlingError } from "../kling/errors.js";
import { costOfRequest } from "../kling/pricing.js";
import type { TaskStatus } from "../kling/types.js";
import { captureCredits, ensureGuild, getBalance, releaseCredits, reserveCredits } from "../ledger/ledger.js";
import type { Logger } from "../log.js";
import { DownloadError, downloadVideo } from "./download.js";
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
  /** How many times a submit the API refused with a retryable error (429, 5xx) is tried. */
  maxSubmitAttempts: number;
}

export interface JobServices {
  db: Database;
  kling: KlingApi;
  replies: Replies;
  download: Dispatcher;
  logger: Logger;
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
  const now = s.now();
  const running = await transitionJob(
    s.db,
    job.id,
    "running",
    {
      klingTaskId: created.taskId,
      submittedAt: now,
      attempts: 0,
      nextPollAt: new Date(now.getTime() + s.settings.pollIntervalMs),
      leaseOwner: null,
      leaseExpiresAt: null,
      lastEditAt: now,
    },
    { from: ["submitting"], owner: s.owner },
  );
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

async function handleSubmitError(s: JobServices, job: JobRow, err: unknown): Promise<JobRow | undefined> {
  const kerr = err instanceof KlingError ? err : undefined;
  // A 429 the client gave up on, or a 5xx the API answered: the API asks to try again later.
  const retry =
    kerr &&
    (kerr.code === "RATE_LIMITED" || kerr.code === "INTERNAL_ERROR") &&
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
  const reason = kerr
    ? kerr.code === "TIMEOUT"
      ? "The video service did not answer in time, so I can't tell whether it started this video. I stopped it here to be safe."
      : kerr.maybeSubmitted
        ? "The video service answered in a way I can't read, so I can't tell whether it started this video. I stopped it here to be safe."
        : kerr.userMessage
    : "Something went wrong while sending this video to the video service.";
  return failJob(s, job, kerr?.code ?? "SUBMIT_ERROR", reason);
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

/** Check a running job's task; show progress, deliver or fail it. */
export async function pollJob(s: JobServices, job: JobRow): Promise<void> {
  const now = s.now();
  const started = job.submittedAt ?? job.createdAt;
  if (now.getTime() - started.getTime() > s.settings.jobTimeoutMs) {
    const minutes = Math.round(s.settings.jobTimeoutMs / 60_000);
    await failJob(
      s,
      job,
      "TIMEOUT",
      `The video service took longer than ${minutes} minutes, so I stopped waiting.`,
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
  if (status.state === "succeeded") {
    // A charge the ledger cannot record (missing, fractional, negative) is settled at the estimate.
    const reported = status.consumedCredits;
    const charged =
      reported !== undefined && Number.isSafeInteger(reported) && reported >= 0
        ? reported
        : job.estimatedCost;
    const delivering = await s.db.transaction(async (tx) => {
      const row = await transitionJob(
        tx,
        job.id,
        "delivering",
        { resultUrl: status.videoUrl, chargedCost: charged, finishedAt: now, attempts: 0 },
        { from: ["running"], owner: s.owner },
      );
      if (!row) return undefined;
      const settled = await captureCredits(tx, { guildId: job.guildId, jobId: job.id, charged });
      if (settled.flagged)
        s.logger.warn({ jobId: job.id, charged, held: job.estimatedCost }, "API charged more than held");
      return row;
    });
    if (delivering) await deliverJob(s, delivering);
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

/** Download the finished video and put it in the reply (or link it, saying why), then complete the job. */
export async function deliverJob(s: JobServices, job: JobRow): Promise<JobRow | undefined> {
  const req = storedRequest(job);
  const target = replyTarget(job);
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
    const dl = await downloadVideo(s.download, url, limit);
    view =
      dl.kind === "file"
        ? { charged, tookMs, file: { name: `video-${job.id}.mp4`, data: dl.data, contentType: "video/mp4" } }
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
    s.logger.warn({ err, jobId: job.id }, "could not download the video; linking it");
    view = { charged, tookMs, link: { url, why: "I could not download it to attach it" } };
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
  return finishDelivery(s, job, view, sent);
}

/**
 * A delivery Discord refused: try again later with growing pauses, and after the last attempt stop, so a
 * reply that cannot be written does not cost invalid requests forever. The credits stay captured: the video
 * was made and paid for, and its link is in `/video status`.
 */
async function retryDelivery(s: JobServices, job: JobRow, err: unknown): Promise<JobRow | undefined> {
  const attempt = job.attempts + 1;
  if (attempt >= MAX_DELIVERY_ATTEMPTS) {
    s.logger.error({ err, jobId: job.id, attempt }, "could not deliver the video; giving up");
    return transitionJob(
      s.db,
      job.id,
      "completed",
      {
        errorCode: "DELIVERY_FAILED",
        errorMessage: "The video was made, but I could not post it in the channel.",
        interactionToken: null,
        leaseOwner: null,
        leaseExpiresAt: null,
      },
      { from: ["delivering"], owner: s.owner },
    );
  }
  const delay = backoff(5_000, attempt, 300_000);
  s.logger.warn({ err, jobId: job.id, attempt, delay }, "could not deliver the video; will try again");
  await releaseLease(s.db, job.id, s.owner, new Date(s.now().getTime() + delay), attempt);
  return undefined;
}

async function finishDelivery(
  s: JobServices,
  job: JobRow,
  view: render.DeliveredView,
  sent: SentReply,
): Promise<JobRow | undefined> {
  const done = await transitionJob(
    s.db,
    job.id,
    "completed",
    {
      interactionToken: null,
      replyMessageId: sent.messageId ?? job.replyMessageId,
      leaseOwner: null,
      leaseExpiresAt: null,
    },
    { from: ["delivering"], owner: s.owner },
  );
  s.logger.info({ jobId: job.id, route: sent.route, attached: Boolean(view.file) }, "video delivered");
  return done;
}
