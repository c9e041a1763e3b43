import {
  type APIMessage,
  type Message,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  type ModalSubmitInteraction,
} from "discord.js";
import type { AttachmentInfo } from "../../../commands/define.js";
import { t } from "../../i18n/index.js";
import { loadSettings } from "../../moderation/store.js";
import { DEFAULT_MODEL, LIMITS } from "../../video/limits.js";
import { validateAnimate } from "../../video/validate.js";
import type { CustomId } from "../custom-id.js";
import * as render from "../render.js";
import { answer } from "../respond.js";
import type { HandlerContext } from "./context.js";
import {
  canPostHere,
  type FollowUpInteraction,
  imageToVideoCost,
  mayAskHere,
  refusedInput,
  startFollowUp,
} from "./follow-up.js";
import { validationDefaults } from "./video-create.js";

/**
 * "Animate with Kling" on a message with an image: a modal asks for the prompt, the duration and the model
 * (filled in with the server's defaults, whose cost its title states); the image becomes the start of an
 * image-to-video job of the clicker, posted in the channel as a reply to that message. The submit reads the
 * message again (its id rides in the modal's `custom_id`), so the image is the one it has now.
 */

/** A message's image, as `/video image` would take it: an attachment, or the link of an image embed. */
type MessageImage = { image: AttachmentInfo } | { image_url: string };

interface Parts {
  attachments: readonly AttachmentInfo[];
  embeds: readonly {
    type?: string | undefined;
    image?: string | undefined;
    thumbnail?: string | undefined;
  }[];
}

/**
 * Its first image attachment (of any image type: validation names the ones the API takes), else the image of
 * an embed (a link to a picture shows as an embed of type `image`, its picture as the thumbnail).
 */
function imageOf(parts: Parts): MessageImage | undefined {
  const attached = parts.attachments.find((a) => a.contentType?.toLowerCase().startsWith("image/"));
  if (attached) return { image: attached };
  const linked = parts.embeds
    .map((e) => e.image ?? (e.type === "image" ? e.thumbnail : undefined))
    .find((url) => url !== undefined);
  return linked ? { image_url: linked } : undefined;
}

function partsOfMessage(m: Message): Parts {
  return {
    attachments: [...m.attachments.values()].map((a) => ({
      id: a.id,
      name: a.name,
      url: a.url,
      contentType: a.contentType,
      size: a.size,
    })),
    embeds: m.embeds.map((e) => ({ type: e.data.type, image: e.image?.url, thumbnail: e.thumbnail?.url })),
  };
}

function partsOfApi(m: APIMessage): Parts {
  return {
    attachments: m.attachments.map((a) => ({
      id: a.id,
      name: a.filename,
      url: a.url,
      contentType: a.content_type ?? null,
      size: a.size,
    })),
    embeds: m.embeds.map((e) => ({ type: e.type, image: e.image?.url, thumbnail: e.thumbnail?.url })),
  };
}

/** The context-menu command: a message without an image is refused privately; else the modal opens. */
export async function animateOpened(
  ctx: HandlerContext<MessageContextMenuCommandInteraction>,
): Promise<void> {
  const { interaction, locale } = ctx;
  if (!interaction.inGuild()) return answer(interaction, render.guildOnly(locale));
  const target = interaction.targetMessage;
  if (!imageOf(partsOfMessage(target)))
    return answer(interaction, render.notice(t(locale, "animate.noImage")));
  const settings = await mayAskHere(ctx);
  if (!settings) return;
  const model = settings.defaultModel ?? DEFAULT_MODEL;
  const duration = LIMITS.durationDefault;
  const price = imageToVideoCost(model, duration, undefined, settings);
  await interaction.showModal(render.animateModal(locale, target.id, { model, duration, cost: price }));
}

/** The modal: the image-to-video job, checked and held like `/video image`, as a reply to the message. */
export async function animateSubmitted(
  ctx: HandlerContext<ModalSubmitInteraction>,
  id: CustomId,
): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  const messageId = id.refs[0];
  if (!interaction.inGuild() || !interaction.channelId || !messageId) {
    return answer(interaction, render.guildOnly(locale));
  }
  if (!(await canPostHere(ctx))) return;
  const fields = interaction.fields;
  const typed = {
    prompt: fields.getTextInputValue("prompt"),
    duration: fields.getTextInputValue("duration"),
    model: fields.getTextInputValue("model"),
  };
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const message = await ctx.posts.read(interaction.channelId, messageId);
  if (!message) return answer(interaction, render.notice(t(locale, "animate.gone")));
  const image = imageOf(partsOfApi(message));
  if (!image) return answer(interaction, render.notice(t(locale, "animate.noImage")));
  const settings = await loadSettings(s.db, interaction.guildId);
  const validation = validateAnimate(typed, image, validationDefaults(settings));
  if (!validation.ok) return answer(interaction, refusedInput(locale, validation.problems));
  await startFollowUp(ctx as HandlerContext<FollowUpInteraction>, settings, validation.value, {
    replyTo: messageId,
  });
}
