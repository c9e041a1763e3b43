import { PermissionFlagsBits, type PermissionsBitField } from "discord.js";

/**
 * What the bot needs to post in a channel once the interaction token has expired, by Discord's flag names
 * (the replies name them in the member's language). A post that replies to another message needs to read
 * the channel's history too.
 */
export function missingPostPermissions(
  perms: Readonly<PermissionsBitField> | null,
  inThread: boolean,
  replying = false,
): string[] {
  if (!perms) return [];
  const needed: (keyof typeof PermissionFlagsBits)[] = [
    "ViewChannel",
    inThread ? "SendMessagesInThreads" : "SendMessages",
    "AttachFiles",
    "EmbedLinks",
    ...(replying ? (["ReadMessageHistory"] as const) : []),
  ];
  return needed.filter((name) => !perms.has(PermissionFlagsBits[name]));
}
