import {
  ChannelType,
  type Guild,
  type GuildBasedChannel,
  PermissionFlagsBits,
  type TextChannel,
} from "discord.js";
import { localeOf, t } from "../i18n/index.js";
import type { Logger } from "../log.js";
import * as render from "./render.js";
import { allowedMentions } from "./replies.js";

/**
 * `ALLOWED_GUILD_IDS`: the servers the bot's operator lets it work in. With the application's "Public Bot"
 * switch on, anyone can invite the bot; without a list, every such server gets a row (and
 * `DEFAULT_GUILD_CREDITS`). With a list, the bot leaves any other server: those it is in at start and those
 * it joins later. It says why first, once, in the server's preferred language and pinging nobody, where it
 * may write; where it may not, it just leaves.
 */

/** Whether the bot may stay in a server: every server when no list is set. */
export function guildAllowed(allowed: ReadonlySet<string> | undefined, guildId: string): boolean {
  return allowed === undefined || allowed.has(guildId);
}

/** Say why (where the bot may write), then leave; a log line either way. Never throws. */
export async function leaveUnlistedGuild(guild: Guild, logger: Logger): Promise<void> {
  const context = { guildId: guild.id, guildName: guild.name };
  const channel = await farewellChannel(guild).catch(() => undefined);
  if (channel) {
    const text = render.notice(t(localeOf(guild.preferredLocale), "guild.leaving")).content;
    await channel
      .send({ content: text, allowedMentions: allowedMentions() })
      .catch((err: unknown) => logger.warn({ err, ...context }, "could not say why the bot leaves a server"));
  }
  try {
    await guild.leave();
    logger.info(context, "left a server that is not in ALLOWED_GUILD_IDS");
  } catch (err) {
    logger.error({ err, ...context }, "could not leave a server that is not in ALLOWED_GUILD_IDS");
  }
}

/** The server's system channel, else its first text channel, where the bot may see and send; else none. */
async function farewellChannel(guild: Guild): Promise<TextChannel | undefined> {
  const me = guild.members.me ?? (await guild.members.fetchMe());
  const writable = (c: GuildBasedChannel | null): c is TextChannel =>
    c?.type === ChannelType.GuildText &&
    c.permissionsFor(me).has([PermissionFlagsBits.ViewChannel, PermissionFlagsBits.SendMessages]);
  if (writable(guild.systemChannel)) return guild.systemChannel;
  return [...guild.channels.cache.values()]
    .filter(writable)
    .sort((a, b) => a.rawPosition - b.rawPosition || a.id.localeCompare(b.id))[0];
}
