import { type APIMessage, DiscordAPIError, type RawFile, type REST, Routes } from "discord.js";
import type { Logger } from "../log.js";
import type { ReplyMessage } from "./render.js";

/**
 * Sends the replies of a job. Discord's interaction token lives 15 minutes; after that the bot edits its
 * reply through the channel message endpoint, and if that fails too, posts a new message that pings
 * only the requester. Works from any process with a REST client: no gateway needed.
 */

export interface ReplyTarget {
  jobId: number;
  /** The job's number in its server, as its messages show it. */
  jobNumber: number;
  applicationId: string;
  interactionToken: string | null;
  tokenExpiresAt: Date;
  channelId: string;
  messageId: string | null;
  userId: string;
}

/**
 * `none`: the token was gone, the channel edit failed, and no fallback message was given; `found`: the message
 * was already there (posted by an earlier attempt) and was left as it is.
 */
export type ReplyRoute = "interaction" | "follow-up" | "channel-edit" | "channel-post" | "found" | "none";

export interface SentReply {
  route: ReplyRoute;
  messageId: string | undefined;
}

/** Discord's answers that mean the interaction token can no longer be used. Never retried. */
const DEAD_TOKEN_CODES = new Set<number | string>([50027, 10015, 10062]);
/** The channel edit can fail for lack of access, or because the message is gone. */
const CHANNEL_EDIT_GIVE_UP = new Set<number | string>([10003, 10008, 50001, 50013, 50083]);

/** How many of a channel's latest messages are searched for a job's earlier post. */
const EARLIER_POST_SCAN = 100;

/** Stop using a token this long before Discord's 15 minutes are over, so an edit is not cut off. */
export const TOKEN_SAFETY_MARGIN_MS = 30_000;

/** Discord refused the request (the file) as too large: 413, code 40005. */
export function isTooLarge(err: unknown): boolean {
  return err instanceof DiscordAPIError && (err.code === 40005 || err.status === 413);
}

export function isDeadToken(err: unknown): boolean {
  return err instanceof DiscordAPIError && (DEAD_TOKEN_CODES.has(err.code) || err.status === 401);
}

export function allowedMentions(pingUserId?: string): { parse: never[]; users: string[] } {
  return { parse: [], users: pingUserId ? [pingUserId] : [] };
}

/** A rendered message as Discord's JSON body: mentions parse nothing but the named requester. */
export function messageBody(message: ReplyMessage) {
  return {
    content: message.content,
    embeds: message.embeds,
    allowed_mentions: allowedMentions(message.pingUserId),
    // Replace whatever was attached before with exactly these files, and the buttons with exactly these
    // (none unless the message has some: a job that moved on loses the buttons of its earlier state).
    attachments: (message.files ?? []).map((f, i) => ({ id: i, filename: f.name })),
    components: message.components ?? [],
  };
}

export function files(message: ReplyMessage): RawFile[] | undefined {
  if (!message.files?.length) return undefined;
  return message.files.map((f) => ({
    name: f.name,
    data: f.data,
    contentType: f.contentType ?? "video/mp4",
  }));
}

export interface RepliesOptions {
  rest: REST;
  /**
   * A REST client that never repeats a request (`retries: 0`), for follow-ups: they take no nonce, so a request
   * repeated after a lost answer would be a second message. Default: `rest`.
   */
  restOnce?: REST;
  logger: Logger;
  now?: () => Date;
}

export class Replies {
  private readonly rest: REST;
  private readonly restOnce: REST;
  private readonly log: Logger;
  private readonly now: () => Date;
  private botUserId: string | undefined;

  constructor(options: RepliesOptions) {
    this.rest = options.rest;
    this.restOnce = options.restOnce ?? options.rest;
    this.log = options.logger;
    this.now = options.now ?? (() => new Date());
  }

  tokenUsable(target: ReplyTarget): boolean {
    return (
      target.interactionToken !== null &&
      this.now().getTime() < target.tokenExpiresAt.getTime() - TOKEN_SAFETY_MARGIN_MS
    );
  }

  /**
   * Edit the job's reply by the best route still open. `build` makes the message; it is called with the
   * requester's id only for a new channel message (the last route, taken when `postIfGone` is set), which
   * then names and pings them.
   */
  async edit(
    target: ReplyTarget,
    build: (pingUserId?: string) => ReplyMessage,
    options: { postIfGone?: boolean } = {},
  ): Promise<SentReply> {
    const message = build();
    if (this.tokenUsable(target)) {
      try {
        const res = (await this.rest.patch(
          Routes.webhookMessage(target.applicationId, target.interactionToken!, "@original"),
          { body: messageBody(message), files: files(message), auth: false },
        )) as { id?: string };
        return { route: "interaction", messageId: res.id ?? target.messageId ?? undefined };
      } catch (err) {
        if (!isDeadToken(err)) throw err;
        this.log.info({ jobId: target.jobId }, "interaction token no longer valid; using the channel");
      }
    }
    if (target.messageId) {
      try {
        await this.rest.patch(Routes.channelMessage(target.channelId, target.messageId), {
          body: messageBody(message),
          files: files(message),
        });
        return { route: "channel-edit", messageId: target.messageId };
      } catch (err) {
        if (!(err instanceof DiscordAPIError) || !CHANNEL_EDIT_GIVE_UP.has(err.code)) throw err;
        this.log.warn({ jobId: target.jobId, code: err.code }, "could not edit the reply in its channel");
      }
    }
    if (!options.postIfGone) return { route: "none", messageId: undefined };
    return this.post(target, build(target.userId));
  }

  /**
   * A new message for the job: a follow-up of the interaction while its token lives (it needs no channel
   * permission and has the interaction's upload limit), a channel post after. Sent once: a follow-up through
   * the client that never repeats a request, a channel post with the job's nonce. Whoever tries again after a
   * failure looks for this message first (`findEarlierPost`).
   */
  async postNew(target: ReplyTarget, message: ReplyMessage): Promise<SentReply> {
    if (this.tokenUsable(target)) {
      try {
        const res = (await this.restOnce.post(
          Routes.webhook(target.applicationId, target.interactionToken!),
          {
            body: messageBody(message),
            files: files(message),
            auth: false,
            query: new URLSearchParams({ wait: "true" }),
          },
        )) as { id?: string };
        return { route: "follow-up", messageId: res.id };
      } catch (err) {
        if (!isDeadToken(err)) throw err;
        this.log.info({ jobId: target.jobId }, "interaction token no longer valid; posting in the channel");
      }
    }
    // In the channel it replies to the job's own message (for a job made from a clip's button or a message,
    // the post that replies to that clip), so the video shows what it came from.
    return this.postInChannel(target, message, { replyToJobMessage: true });
  }

  /**
   * A new channel message, or the job's earlier post edited: a post of an earlier life of the bot (it died
   * before recording the message id, and came back later than Discord's nonce window) is found among the
   * channel's latest messages and edited instead of posted again.
   */
  async post(target: ReplyTarget, message: ReplyMessage): Promise<SentReply> {
    const earlier = await this.findEarlierPost(target);
    if (earlier) {
      this.log.info(
        { jobId: target.jobId, messageId: earlier.id },
        "found the job's earlier post; editing it",
      );
      await this.rest.patch(Routes.channelMessage(target.channelId, earlier.id), {
        body: messageBody(message),
        files: files(message),
      });
      return { route: "channel-edit", messageId: earlier.id };
    }
    return this.postInChannel(target, message);
  }

  /** The nonce makes a retried post (REST retries 5xx) land once within Discord's nonce window. */
  private async postInChannel(
    target: ReplyTarget,
    message: ReplyMessage,
    options: { replyToJobMessage?: boolean } = {},
  ): Promise<SentReply> {
    // The job's message is the bot's own, and allowed_mentions leaves out replied_user: the reply pings nobody.
    const reply =
      options.replyToJobMessage && target.messageId
        ? {
            message_reference: {
              message_id: target.messageId,
              channel_id: target.channelId,
              fail_if_not_exists: false,
            },
          }
        : {};
    const res = (await this.rest.post(Routes.channelMessages(target.channelId), {
      body: { ...messageBody(message), ...reply, nonce: `kling-job-${target.jobId}`, enforce_nonce: true },
      files: files(message),
    })) as { id?: string };
    return { route: "channel-post", messageId: res.id };
  }

  /**
   * The bot's own earlier post for this job among the channel's latest messages, if any: a message that names
   * the requester and whose embed title carries the job's number (numbers are per server, and a channel is in
   * one server).
   */
  async findEarlierPost(target: ReplyTarget): Promise<APIMessage | undefined> {
    try {
      this.botUserId ??= ((await this.rest.get(Routes.user("@me"))) as { id: string }).id;
      const latest = (await this.rest.get(Routes.channelMessages(target.channelId), {
        query: new URLSearchParams({ limit: String(EARLIER_POST_SCAN) }),
      })) as APIMessage[];
      const title = new RegExp(`#${target.jobNumber}(?!\\d)`);
      const mention = `<@${target.userId}>`;
      return latest.find(
        (m) =>
          m.author?.id === this.botUserId &&
          m.content.includes(mention) &&
          m.embeds.some((e) => title.test(e.title ?? "")),
      );
    } catch (err) {
      // No history permission, or Discord did not answer: post (the nonce still guards a quick retry).
      this.log.warn({ err, jobId: target.jobId }, "could not look for an earlier post of this job");
      return undefined;
    }
  }
}
