import { PermissionFlagsBits, type PermissionsBitField } from "discord.js";

/**
 * What the bot needs to post in a channel once the interaction token has expired, by Discord's flag names
 * (the replies name them in the member's language).
 */
export function missingPostPermissions(
  perms: Readonly<PermissionsBitField> | null,
  inThread: boolean,
): string[] {
  if (!perms) return [];
  const needed: (keyof typeof PermissionFlagsBits)[] = [
    "ViewChannel",
    inThread ? "SendMessagesInThreads" : "SendMessages",
    "AttachFiles",
    "EmbedLinks",
  ];
  return needed.filter((name) => !perms.has(PermissionFlagsBits[name]));
}
