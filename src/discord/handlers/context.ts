import type { Locale } from "../../i18n/locale.js";
import type { JobServices } from "../../jobs/services.js";
import type { Logger } from "../../log.js";
import type { ChannelPosts } from "../channel-posts.js";
import type { ModeratorChannel } from "../moderator-channel.js";

/** What every handler is handed: the job services, the log, the member's language, and who operates the bot. */
export interface HandlerContext<I> {
  services: JobServices;
  logger: Logger;
  locale: Locale;
  interaction: I;
  moderation: ModeratorChannel;
  /** Posts of the bot's own in a channel (follow-up videos, frames, the gallery) and reading messages back. */
  posts: ChannelPosts;
  /** The bot's operators: `BOT_OWNER_IDS` and the application's owner or team members. */
  operatorIds: ReadonlySet<string>;
}
