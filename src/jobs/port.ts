import type { KlingErrorCode } from "../kling/errors.js";
import type { JobRow } from "./repository.js";

/**
 * What the job flow tells the outside world, and nothing about how: the Discord adapter renders each event in
 * the requester's language and sends it (editing the reply while the interaction token lives, through the
 * channel after). The flow stores codes and parameters, never rendered text.
 */

/** Why a job ended without a video. `code` is stored with the job (`error_code`), `params` beside it. */
export type Failure =
  /** The job ran longer than the configured limit. */
  | { code: "TIMED_OUT"; params: { waitedMs: number; limitMs: number } }
  /**
   * The API reported the task failed; `serviceReason` is the service's own words, when it gave some;
   * `consumedCredits`, what the API charged for it all the same (the server is refunded regardless).
   */
  | { code: "TASK_FAILED"; params: { serviceReason?: string; status: string; consumedCredits?: number } }
  /** The API reported success but named no video the bot may fetch. */
  | { code: "NO_VIDEO_URL"; params: Record<string, never> }
  /** The finished video could not be fetched. */
  | { code: "VIDEO_UNAVAILABLE"; params: { why: VideoUnavailableWhy; httpStatus?: number } }
  /** The API may have made the task (an answer after sending that the bot cannot use): not sent again. */
  | { code: "UNCONFIRMED"; params: { timedOut?: boolean } }
  /** The process died while the submit was in flight. */
  | { code: "INTERRUPTED"; params: Record<string, never> }
  /** The API refused the request; `serviceMessage` is its own words when it gave some. */
  | { code: KlingErrorCode; params: { serviceMessage?: string } }
  /** Anything else on the way to the API. */
  | { code: "SUBMIT_ERROR"; params: Record<string, never> }
  /** A manager denied it (`by`: who, `reason`: why, if they said). */
  | { code: "DENIED"; params: { by: string; reason?: string } }
  /** Nobody decided within the approval wait. */
  | { code: "APPROVAL_EXPIRED"; params: { waitedMs: number } }
  /** Its requester or a manager cancelled it before it was sent. */
  | { code: "CANCELLED"; params: { by: string } }
  /** Its message could not be posted where it was asked for, so it was never sent. */
  | { code: "NOT_POSTED"; params: Record<string, never> };

export type VideoUnavailableWhy = "http-status" | "not-a-video" | "not-allowed" | "too-slow" | "unreachable";

/** A finished video: the file, when it was fetched within the adapter's limit, and always its link. */
export interface FinishedVideo {
  url: string;
  file?: { data: Buffer; extension: "mp4" | "mov"; contentType: string };
  /** Set when the file was larger than the adapter's limit (bytes, when the host said). */
  tooLarge?: { size: number | undefined; limit: number };
}

export interface Posted {
  /** The message now showing the job, when the adapter knows it (kept to edit it later). */
  messageId?: string | undefined;
}

/** The message that carries a finished video, once posted (or found again). */
export interface VideoPosted {
  messageId: string;
  /** The message carries the file (true), or only its link (false). */
  attached: boolean;
}

/**
 * A job's progress as shown: elapsed time since it was sent to the API and the time it is expected to take,
 * both in the same rounded steps, so that elapsed + left = the estimate on screen.
 */
export interface ProgressFigures {
  elapsedMs: number;
  estimateMs: number;
}

export interface JobPort {
  /** The largest file the adapter could attach for this job now; the flow downloads no more than this. */
  attachmentLimit(job: JobRow): number;
  /**
   * The job waits to be sent: `slowed`, the API refused it for now and it goes again after a pause; `turn`, the
   * API account runs as many tasks as it may and the job waits for a free place.
   */
  waiting(job: JobRow, info: { place: number; why: "slowed" | "turn" }): Promise<Posted>;
  /** The API is working on the job. */
  progress(job: JobRow, figures: ProgressFigures): Promise<Posted>;
  /**
   * The video is ready: post the message that carries it, which tells the requester (`balance`: the server's
   * credits once the charge is settled). Throws when the adapter could not post it (the flow retries later).
   */
  delivered(
    job: JobRow,
    info: { video: FinishedVideo; charged: number; tookMs: number; balance: number },
  ): Promise<VideoPosted>;
  /**
   * The message that carries the video, if an earlier attempt posted it but its id was never recorded (the
   * answer was lost, or the process died); undefined when none is found.
   */
  findVideo(job: JobRow): Promise<VideoPosted | undefined>;
  /** The video's message is posted: the job's reply now points to it. */
  pointToVideo(job: JobRow, info: { messageId: string }): Promise<Posted>;
  /** The job ended without a video; its held credits are returned. */
  failed(job: JobRow, failure: Failure): Promise<Posted>;
}
