import { and, eq } from "drizzle-orm";
import { jobs } from "../db/schema.js";
import { balanceAfterCapture, captureCredits, getBalance } from "../ledger/index.js";
import { DownloadError, type DownloadFailure } from "./download.js";
import { failJob, tell } from "./fail.js";
import type { FinishedVideo, VideoPosted, VideoUnavailableWhy } from "./port.js";
import { type JobRow, releaseLease, transitionJob } from "./repository.js";
import { backoff, type JobServices } from "./services.js";

/** Tries to post a finished video before the job is closed without it (its link stays in /video status). */
const MAX_DELIVERY_ATTEMPTS = 6;
/** Tries to fetch a finished video from the API's host before the job fails and its credits go back. */
const MAX_DOWNLOAD_ATTEMPTS = 3;

/** What the member is told of a download that failed for good, by the fetcher's reason. */
export const UNAVAILABLE_WHY: Readonly<Record<DownloadFailure, VideoUnavailableWhy>> = {
  "http-status": "http-status",
  "not-a-video": "not-a-video",
  "private-address": "not-allowed",
  "not-https": "not-allowed",
  "too-many-redirects": "not-allowed",
  "timed-out": "too-slow",
  "too-slow": "too-slow",
  network: "unreachable",
  cancelled: "unreachable",
};

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

/**
 * Fetch the finished video (within what the adapter can attach), post the message that carries it, point the
 * job's reply to it, then complete the job. The message is posted once: its start is recorded before the
 * post, so a later attempt (after a lost answer or a restart) looks for it first, before fetching anything;
 * and its id is recorded at once, so an attempt after that only points to it and completes.
 */
export async function deliverJob(s: JobServices, job: JobRow): Promise<JobRow | undefined> {
  if (job.videoMessageId) return pointAndComplete(s, job, job.videoMessageId, job.videoAttached);
  if (job.videoPostStartedAt) {
    const found = await s.port.findVideo(job);
    if (found) return videoPosted(s, job, found);
  }
  const limit = Math.min(s.port.attachmentLimit(job), s.settings.maxVideoBytes);
  const url = job.resultUrl!;
  let video: FinishedVideo;
  try {
    const dl = await s.download.fetch(url, { maxBytes: limit, signal: s.signal });
    video =
      dl.kind === "file"
        ? { url, file: { data: dl.data, extension: dl.extension, contentType: dl.contentType } }
        : { url, tooLarge: { size: dl.size, limit } };
  } catch (err) {
    if (!(err instanceof DownloadError)) throw err;
    return downloadFailed(s, job, err);
  }
  const charged = job.chargedCost ?? job.estimatedCost;
  const tookMs = (job.finishedAt ?? s.now()).getTime() - job.createdAt.getTime();
  const balance = balanceAfterCapture(await getBalance(s.db, job.guildId), job.estimatedCost, charged);
  if (!job.videoPostStartedAt) await recordVideo(s, job, { videoPostStartedAt: s.now() });
  let posted: VideoPosted;
  try {
    posted = await s.port.delivered(job, { video, charged, tookMs, balance });
  } catch (err) {
    return retryDelivery(s, job, err);
  }
  return videoPosted(s, job, posted);
}

/** The video's message exists: its id is kept at once, then the reply points to it and the job completes. */
async function videoPosted(s: JobServices, job: JobRow, posted: VideoPosted): Promise<JobRow | undefined> {
  await recordVideo(s, job, { videoMessageId: posted.messageId, videoAttached: posted.attached });
  return pointAndComplete(s, job, posted.messageId, posted.attached);
}

/** Keep what is known of the video's message on the job (while this process holds it). */
async function recordVideo(
  s: JobServices,
  job: JobRow,
  patch: Pick<Partial<JobRow>, "videoPostStartedAt" | "videoMessageId" | "videoAttached">,
): Promise<void> {
  await s.db
    .update(jobs)
    .set(patch)
    .where(and(eq(jobs.id, job.id), eq(jobs.guildId, job.guildId), eq(jobs.leaseOwner, s.owner)));
}

/** The video is posted: the job's reply points to it (a reply that cannot be edited is left), then done. */
async function pointAndComplete(
  s: JobServices,
  job: JobRow,
  messageId: string,
  attached: boolean | null,
): Promise<JobRow | undefined> {
  await tell(s, job, (port) => port.pointToVideo(job, { messageId }));
  const done = await completeJob(s, job, {});
  s.logger.info({ jobId: job.id, messageId, attached }, "video delivered");
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
  const why = UNAVAILABLE_WHY[err.failure];
  return failJob(s, job, {
    code: "VIDEO_UNAVAILABLE",
    params: err.httpStatus === undefined ? { why } : { why, httpStatus: err.httpStatus },
  });
}

/**
 * A delivery the adapter could not show: try again later with growing pauses, and after the last attempt
 * stop, so a reply that cannot be written does not cost invalid requests forever. The credits are captured:
 * the video was made and fetched, and its link is in `/video status`.
 */
async function retryDelivery(s: JobServices, job: JobRow, err: unknown): Promise<JobRow | undefined> {
  const attempt = job.attempts + 1;
  if (attempt >= MAX_DELIVERY_ATTEMPTS) {
    s.logger.error({ err, jobId: job.id, attempt }, "could not deliver the video; giving up");
    return completeJob(s, job, { errorCode: "DELIVERY_FAILED", errorParams: {} });
  }
  const delay = backoff(5_000, attempt, 300_000);
  s.logger.warn({ err, jobId: job.id, attempt, delay }, "could not deliver the video; will try again");
  await releaseLease(s.db, job.id, s.owner, new Date(s.now().getTime() + delay), attempt);
  return undefined;
}
