import {
  type InteractionEditReplyOptions,
  type InteractionReplyOptions,
  type MessageComponentInteraction,
  MessageFlags,
  type ModalSubmitInteraction,
  type RepliableInteraction,
} from "discord.js";
import type { ReplyMessage } from "./render.js";
import { allowedMentions } from "./replies.js";

/** A rendered message as discord.js options, with `allowed_mentions` that parse nothing. */
export function toDiscord(message: ReplyMessage): InteractionEditReplyOptions {
  return {
    content: message.content || null,
    embeds: message.embeds,
    allowedMentions: allowedMentions(message.pingUserId),
    files: message.files?.map((f) => ({ attachment: f.data, name: f.name })) ?? [],
    components: message.components ?? [],
  } as InteractionEditReplyOptions;
}

export type Answerable = RepliableInteraction | MessageComponentInteraction | ModalSubmitInteraction;

/** Answer only the member (or, once a reply was deferred, edit that reply: its visibility is fixed). */
export async function answer(interaction: Answerable, message: ReplyMessage): Promise<void> {
  const payload = toDiscord(message);
  if (interaction.deferred || interaction.replied) await interaction.editReply(payload);
  else
    await interaction.reply({
      ...payload,
      content: payload.content ?? undefined,
      flags: MessageFlags.Ephemeral,
    } as InteractionReplyOptions);
}

/** The first answer, public; returns the message's id. */
export async function replyPublicly(
  interaction: Answerable,
  message: ReplyMessage,
): Promise<string | undefined> {
  const payload = toDiscord(message);
  const response = await interaction.reply({
    ...payload,
    content: payload.content ?? undefined,
    withResponse: true,
  } as InteractionReplyOptions & { withResponse: true });
  return response.resource?.message?.id;
}
