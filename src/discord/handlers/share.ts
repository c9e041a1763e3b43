import { DiscordAPIError, type MessageComponentInteraction, MessageFlags } from "discord.js";
import { localeOf, t } from "../../i18n/index.js";
import { UNAVAILABLE_WHY } from "../../jobs/deliver.js";
import { DownloadError } from "../../jobs/download.js";
import { claimGalleryPost, recordGalleryPost, releaseGalleryClaim } from "../../jobs/gallery.js";
import { loadSettings } from "../../moderation/store.js";
import type { CustomId } from "../custom-id.js";
import { DEFAULT_ATTACHMENT_LIMIT, jobSummary } from "../job-replies.js";
import * as render from "../render.js";
import { answer } from "../respond.js";
import { clipOf } from "./clip-buttons.js";
import type { HandlerContext } from "./context.js";

/** Discord's answers to a post in a channel the bot may not see or write in. */
const NO_ACCESS = new Set([10003, 50001, 50013]);

/**
 * Share: its requester posts a finished video in the server's gallery channel (`/budget config
 * gallery_channel`), with its prompt (escaped) and who made it, pinging nobody — once, however many times and
 * from however many processes it is clicked (jobs/gallery.ts). The video is fetched again from its link and
 * attached; one larger than a channel post takes is linked instead.
 */
export async function shareClicked(
  ctx: HandlerContext<MessageComponentInteraction>,
  id: CustomId,
): Promise<void> {
  const clip = await clipOf(ctx, id);
  if (!clip) return;
  const { interaction, locale, services: s } = ctx;
  if (clip.job.userId !== interaction.user.id) {
    return answer(interaction, render.notice(t(locale, "share.onlyRequester")));
  }
  const settings = await loadSettings(s.db, clip.job.guildId);
  const gallery = settings.galleryChannelId;
  if (!gallery) return answer(interaction, render.notice(t(locale, "share.noGallery")));
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const guildId = clip.job.guildId;
  const claim = await claimGalleryPost(s.db, {
    guildId,
    jobId: clip.job.id,
    channelId: gallery,
    now: s.now(),
  });
  switch (claim.kind) {
    case "shared":
      return answer(
        interaction,
        render.notice(
          t(locale, "share.already", {
            channel: `<#${claim.channelId}>`,
            link: render.messageLink(guildId, claim.channelId, claim.messageId),
          }),
        ),
      );
    case "busy":
      return answer(interaction, render.notice(t(locale, "share.busy")));
    case "gone":
      return answer(interaction, render.notice(t(locale, "clip.notDone")));
    case "claimed":
      break;
  }
  const held = { guildId, jobId: clip.job.id, claimedAt: claim.claimedAt };
  const limit = Math.min(DEFAULT_ATTACHMENT_LIMIT, s.settings.maxVideoBytes);
  let video: Parameters<typeof render.galleryPost>[2];
  try {
    const got = await s.download.fetch(clip.videoUrl, { maxBytes: limit, signal: s.signal });
    video =
      got.kind === "file"
        ? {
            file: {
              name: `video-${clip.job.number}.${got.extension}`,
              data: got.data,
              contentType: got.contentType,
            },
          }
        : { url: clip.videoUrl, limitMiB: Math.floor(limit / 1024 / 1024) };
  } catch (err) {
    await releaseGalleryClaim(s.db, held);
    if (!(err instanceof DownloadError)) throw err;
    const why = render.unavailableWhy(locale, {
      why: UNAVAILABLE_WHY[err.failure],
      httpStatus: err.httpStatus,
    });
    return answer(interaction, render.notice(t(locale, "clip.unavailable", { why })));
  }
  const original =
    interaction.message && render.messageLink(guildId, interaction.channelId, interaction.message.id);
  // The gallery reads the server's language, like the moderators' channel.
  const message = render.galleryPost(
    localeOf(interaction.guildLocale),
    jobSummary(claim.job),
    video,
    original,
  );
  let messageId: string;
  try {
    // The nonce: a claim taken again after its process died returns that process's post, if it made one.
    messageId = (await ctx.posts.post(gallery, message, { nonce: `kling-share-${clip.job.id}` })).id;
  } catch (err) {
    await releaseGalleryClaim(s.db, held);
    if (!(err instanceof DiscordAPIError && NO_ACCESS.has(Number(err.code)))) throw err;
    return answer(interaction, render.notice(t(locale, "share.cantPost", { channel: `<#${gallery}>` })));
  }
  await recordGalleryPost(s.db, { ...held, messageId });
  await answer(
    interaction,
    render.notice(
      t(locale, "share.done", {
        channel: `<#${gallery}>`,
        link: render.messageLink(guildId, gallery, messageId),
      }),
    ),
  );
}
