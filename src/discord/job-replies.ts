import { localeOf } from "../i18n/locale.js";
import type { Failure, FinishedVideo, JobPort, Posted, ProgressFigures, VideoPosted } from "../jobs/port.js";
import type { JobRow } from "../jobs/repository.js";
import { storedRequest } from "../jobs/request.js";
import * as render from "./render.js";
import { isTooLarge, type Replies, type ReplyTarget } from "./replies.js";

/**
 * The job flow's port, for Discord: each event is rendered in the requester's language and sent by the best
 * route still open (the interaction token while it lives, the channel after; see replies.ts). What Discord
 * can take — the upload limit of the interaction or of a plain channel post, the 25 MiB request cap — and
 * whether a video is attached or linked are decided here.
 */

/** Discord's default attachment limit when the interaction does not say (10 MiB since 2025). */
export const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;
/** One request to Discord carries at most 25 MiB; leave room for the JSON part. */
const REQUEST_BODY_LIMIT = 25 * 1024 * 1024 - 64 * 1024;

export function replyTarget(job: JobRow): ReplyTarget {
  return {
    jobId: job.id,
    jobNumber: job.number,
    applicationId: job.applicationId,
    interactionToken: job.interactionToken,
    tokenExpiresAt: job.tokenExpiresAt,
    channelId: job.channelId,
    messageId: job.replyMessageId,
    userId: job.userId,
  };
}

export function jobSummary(job: JobRow): render.JobSummary {
  return {
    id: job.id,
    number: job.number,
    userId: job.userId,
    display: storedRequest(job).display,
    estimatedCost: job.estimatedCost,
  };
}

export class DiscordJobReplies implements JobPort {
  readonly #replies: Replies;

  constructor(replies: Replies) {
    this.#replies = replies;
  }

  attachmentLimit(job: JobRow): number {
    // A channel post after the token expired does not get the requester's Nitro upload limit.
    const discord = this.#replies.tokenUsable(replyTarget(job))
      ? storedRequest(job).delivery.attachmentSizeLimit
      : DEFAULT_ATTACHMENT_LIMIT;
    return Math.min(discord, REQUEST_BODY_LIMIT);
  }

  async waiting(job: JobRow, info: { place: number; why: "slowed" | "turn" }): Promise<Posted> {
    const locale = localeOf(job.locale);
    return this.#replies.edit(replyTarget(job), () => render.waiting(locale, jobSummary(job), info));
  }

  async progress(job: JobRow, figures: ProgressFigures): Promise<Posted> {
    const locale = localeOf(job.locale);
    return this.#replies.edit(replyTarget(job), () => render.progress(locale, jobSummary(job), figures));
  }

  /**
   * The message that carries the video is a new message, so that it pings the requester (an edit never
   * notifies) and lands at the bottom of the channel; the job's reply then becomes a pointer to it
   * (`pointToVideo`), so the channel holds the video once. Attached when it fits, linked otherwise.
   */
  async delivered(
    job: JobRow,
    info: { video: FinishedVideo; charged: number; tookMs: number; balance: number },
  ): Promise<VideoPosted> {
    const target = replyTarget(job);
    const locale = localeOf(job.locale);
    const summary = jobSummary(job);
    const post = async (view: render.DeliveredView): Promise<VideoPosted> => {
      const sent = await this.#replies.postNew(target, render.delivered(locale, summary, view));
      if (!sent.messageId) throw new Error("Discord did not return the id of the posted video");
      return { messageId: sent.messageId, attached: Boolean(view.file) };
    };
    const figures = { charged: info.charged, tookMs: info.tookMs, balance: info.balance };
    const view = render.deliveredView(info.video, figures, job.number, this.attachmentLimit(job));
    try {
      return await post(view);
    } catch (err) {
      if (!(view.file && isTooLarge(err))) throw err;
      // Discord refused the file after all: link it instead, at once.
      return post({ ...figures, link: { url: info.video.url, why: { kind: "refused-by-discord" } } });
    }
  }

  /** Among the channel's latest messages: needs the bot to read the channel's history (else: none found). */
  async findVideo(job: JobRow): Promise<VideoPosted | undefined> {
    const earlier = await this.#replies.findEarlierPost(replyTarget(job));
    return earlier && { messageId: earlier.id, attached: earlier.attachments.length > 0 };
  }

  async pointToVideo(job: JobRow, info: { messageId: string }): Promise<Posted> {
    const locale = localeOf(job.locale);
    const link = render.messageLink(job.guildId, job.channelId, info.messageId);
    return this.#replies.edit(replyTarget(job), () => render.pointer(locale, jobSummary(job), link));
  }

  async failed(job: JobRow, failure: Failure): Promise<Posted> {
    const locale = localeOf(job.locale);
    const summary = jobSummary(job);
    return this.#replies.edit(replyTarget(job), (ping) => render.failed(locale, summary, failure, ping), {
      postIfGone: true,
    });
  }
}
