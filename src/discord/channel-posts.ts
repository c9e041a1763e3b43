import { type APIMessage, DiscordAPIError, type REST, Routes } from "discord.js";
import type { Logger } from "../log.js";
import type { ReplyMessage } from "./render.js";
import { allowedMentions, files, messageBody } from "./replies.js";

/**
 * Messages the bot posts in a channel on its own rather than as an interaction's reply: a follow-up video's
 * message as a reply to the message it came from, the frame a continuation starts from, a shared video in the
 * gallery channel; and reading a message back. Nothing posted pings anyone, not even the author of the message
 * replied to.
 */
export class ChannelPosts {
  readonly #rest: REST;
  readonly #log: Logger;

  constructor(options: { rest: REST; logger: Logger }) {
    this.#rest = options.rest;
    this.#log = options.logger;
  }

  /**
   * Post `message` in `channelId`, as a reply to `replyTo` when given (shown even if that message is gone).
   * A `nonce` makes a repeated post within Discord's nonce window return the first message.
   */
  async post(
    channelId: string,
    message: ReplyMessage,
    options: { replyTo?: string | undefined; nonce?: string } = {},
  ): Promise<APIMessage> {
    const body = {
      ...messageBody(message),
      allowed_mentions: { ...allowedMentions(), replied_user: false },
      ...(options.replyTo
        ? {
            message_reference: {
              message_id: options.replyTo,
              channel_id: channelId,
              fail_if_not_exists: false,
            },
          }
        : {}),
      ...(options.nonce ? { nonce: options.nonce, enforce_nonce: true } : {}),
    };
    return (await this.#rest.post(Routes.channelMessages(channelId), {
      body,
      files: files(message),
    })) as APIMessage;
  }

  /** Take back a message the bot posted (a frame nobody will use); a failure is only logged. */
  async remove(channelId: string, messageId: string): Promise<void> {
    await this.#rest
      .delete(Routes.channelMessage(channelId, messageId))
      .catch((err) => this.#log.warn({ err, messageId }, "could not delete a message the bot posted"));
  }

  /** A message as the API gives it, or undefined when it is gone or the bot may not read it. */
  async read(channelId: string, messageId: string): Promise<APIMessage | undefined> {
    try {
      return (await this.#rest.get(Routes.channelMessage(channelId, messageId))) as APIMessage;
    } catch (err) {
      if (err instanceof DiscordAPIError && [10003, 10008, 50001, 50013].includes(Number(err.code))) {
        return undefined;
      }
      throw err;
    }
  }
}
