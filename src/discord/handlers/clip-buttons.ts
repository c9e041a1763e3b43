import { type MessageComponentInteraction, MessageFlags, type ModalSubmitInteraction } from "discord.js";
import { t } from "../../i18n/index.js";
import { UNAVAILABLE_WHY } from "../../jobs/deliver.js";
import { DownloadError } from "../../jobs/download.js";
import type { JobRow } from "../../jobs/repository.js";
import { type StoredRequest, storedRequest } from "../../jobs/request.js";
import { cost } from "../../kling/pricing.js";
import type { GuildSettingsValue } from "../../moderation/settings.js";
import { loadSettings } from "../../moderation/store.js";
import { aspectRatioOf, extractLastFrame, type Frame, FrameError } from "../../video/last-frame.js";
import { LIMITS } from "../../video/limits.js";
import {
  type ClipShape,
  type Validation,
  type VideoRequest,
  validateClipContinue,
  validateClipEdit,
  validateClipReference,
} from "../../video/validate.js";
import type { CustomId } from "../custom-id.js";
import * as render from "../render.js";
import { answer } from "../respond.js";
import type { HandlerContext } from "./context.js";
import {
  canPostHere,
  type FollowUpInteraction,
  imageToVideoCost,
  mayAskHere,
  passesRules,
  refusedInput,
  startFollowUp,
} from "./follow-up.js";
import { clickedJob } from "./guards.js";
import { validationDefaults } from "./video-create.js";

/**
 * The buttons under a delivered video (render.videoButtons): Re-roll, Edit, Continue and Use as reference.
 * Each `custom_id` names only the job; every click loads it from the database in the clicker's own server, so
 * a button works after a restart and on a message a worker-only process posted, and an id naming another
 * server's job finds nothing. Every new job is the clicker's, checked by the server's rules and held like a
 * `/video` job (follow-up.ts). Share is in share.ts.
 */

type Clicked = MessageComponentInteraction | ModalSubmitInteraction;

/** A delivered clip: its job, what it was asked for, and where its video is. */
export interface Clip {
  job: JobRow;
  stored: StoredRequest;
  videoUrl: string;
}

/** The delivered clip a click names, in the clicker's server; otherwise the clicker is told why. */
export async function clipOf(ctx: HandlerContext<Clicked>, id: CustomId): Promise<Clip | undefined> {
  const { interaction, locale } = ctx;
  const job = await clickedJob(ctx, id);
  if (!job) {
    await answer(interaction, render.notice(t(locale, "clip.gone")));
    return undefined;
  }
  if (job.state !== "completed" || !job.resultUrl) {
    await answer(interaction, render.notice(t(locale, "clip.notDone")));
    return undefined;
  }
  return { job, stored: storedRequest(job), videoUrl: job.resultUrl };
}

/** The message a new job replies to: the one the clicked button is on, else the clip's video message. */
function clipMessage(interaction: Clicked, clip: Clip): string | undefined {
  return interaction.message?.id ?? clip.job.videoMessageId ?? clip.job.replyMessageId ?? undefined;
}

/** What a clip was: its model, duration, aspect ratio and sound. */
function shapeOf(clip: Clip): ClipShape {
  const d = clip.stored.display;
  return { model: d.model, duration: d.duration, aspectRatio: d.aspectRatio, sound: d.sound };
}

// ---- Re-roll ------------------------------------------------------------------------------------------

/** Re-roll: the same request again, as a new job of the clicker. */
export async function rerollClicked(
  ctx: HandlerContext<MessageComponentInteraction>,
  id: CustomId,
): Promise<void> {
  const clip = await clipOf(ctx, id);
  if (!clip || !(await canPostHere(ctx))) return;
  const { interaction, services: s } = ctx;
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const settings = await loadSettings(s.db, clip.job.guildId);
  const { generate, display } = clip.stored;
  const request: VideoRequest = {
    generate,
    display: {
      subcommand: display.subcommand,
      model: display.model,
      prompt: display.prompt,
      duration: display.duration,
      aspectRatio: display.aspectRatio,
      sound: display.sound,
    },
  };
  await startFollowUp(ctx as HandlerContext<FollowUpInteraction>, settings, request, {
    replyTo: clipMessage(interaction, clip),
  });
}

// ---- Edit -----------------------------------------------------------------------------------------------

export async function editClicked(
  ctx: HandlerContext<MessageComponentInteraction>,
  id: CustomId,
): Promise<void> {
  const clip = await clipOf(ctx, id);
  if (!clip || !(await mayAskHere(ctx))) return;
  const prices = { std: cost("o3-std-video-edit"), pro: cost("o3-pro-video-edit") };
  await ctx.interaction.showModal(render.editModal(ctx.locale, clip.job.id, prices));
}

/** Edit's modal: an O3 edit of the clip, once its link still serves the video. */
export async function editSubmitted(
  ctx: HandlerContext<ModalSubmitInteraction>,
  id: CustomId,
): Promise<void> {
  const clip = await clipOf(ctx, id);
  if (!clip || !(await canPostHere(ctx))) return;
  const { interaction, services: s } = ctx;
  const fields = interaction.fields;
  const validation = validateClipEdit(
    { prompt: fields.getTextInputValue("prompt"), quality: fields.getTextInputValue("quality") },
    clip.videoUrl,
  );
  if (!validation.ok) return answer(interaction, refusedInput(ctx.locale, validation.problems));
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  // The video service fetches the clip by its link: one that no longer serves it would fail the job later.
  if (!(await fetchClip(ctx, clip, PROBE_BYTES))) return;
  const settings = await loadSettings(s.db, clip.job.guildId);
  await startFollowUp(ctx as HandlerContext<FollowUpInteraction>, settings, validation.value, {
    replyTo: clipMessage(interaction, clip),
  });
}

/** Enough of a video to know its link still serves one (a larger file is not read further). */
const PROBE_BYTES = 64 * 1024;

/**
 * The clip's file (up to `maxBytes`; `null` when it is larger), or undefined when its link no longer serves
 * it (the clicker is told why: an expired link says so).
 */
async function fetchClip(
  ctx: HandlerContext<Clicked>,
  clip: Clip,
  maxBytes: number,
): Promise<Buffer | null | undefined> {
  const { locale, services: s } = ctx;
  try {
    const got = await s.download.fetch(clip.videoUrl, { maxBytes, signal: s.signal });
    return got.kind === "file" ? got.data : null;
  } catch (err) {
    if (!(err instanceof DownloadError)) throw err;
    ctx.logger.info(
      { jobId: clip.job.id, failure: err.failure },
      "a clip's video could not be fetched again",
    );
    const why = render.unavailableWhy(locale, {
      why: UNAVAILABLE_WHY[err.failure],
      httpStatus: err.httpStatus,
    });
    await answer(ctx.interaction, render.notice(t(locale, "clip.unavailable", { why })));
    return undefined;
  }
}

// ---- Continue and Use as reference ----------------------------------------------------------------------

export async function continueClicked(
  ctx: HandlerContext<MessageComponentInteraction>,
  id: CustomId,
): Promise<void> {
  const clip = await clipOf(ctx, id);
  const settings = clip && (await mayAskHere(ctx));
  if (!clip || !settings) return;
  const { model, duration, sound } = shapeOf(clip);
  const price = imageToVideoCost(model, duration, sound, settings);
  const modal = render.continueModal(ctx.locale, clip.job.id, price);
  await ctx.interaction.showModal(modal);
}

export async function referenceClicked(
  ctx: HandlerContext<MessageComponentInteraction>,
  id: CustomId,
): Promise<void> {
  const clip = await clipOf(ctx, id);
  if (!clip || !(await mayAskHere(ctx))) return;
  const price = cost("o3-std-reference-to-video", shapeOf(clip).duration ?? LIMITS.durationDefault);
  await ctx.interaction.showModal(render.referenceModal(ctx.locale, clip.job.id, price));
}

/** Continue's modal: an image-to-video from the clip's last frame, of its model, duration and aspect ratio. */
export function continueSubmitted(ctx: HandlerContext<ModalSubmitInteraction>, id: CustomId): Promise<void> {
  return fromLastFrame(ctx, id, (clip, prompt, frameUrl, frame, settings) =>
    validateClipContinue({ prompt }, frameUrl, shapeWith(clip, frame), validationDefaults(settings)),
  );
}

/** Use as reference's modal: an O3 reference-to-video following the clip and its last frame. */
export function referenceSubmitted(ctx: HandlerContext<ModalSubmitInteraction>, id: CustomId): Promise<void> {
  return fromLastFrame(ctx, id, (clip, prompt, frameUrl, frame) =>
    validateClipReference({ prompt }, { video: clip.videoUrl, frame: frameUrl }, shapeWith(clip, frame)),
  );
}

/** The clip's shape, its aspect ratio read from its frame when its request did not name one (an edit). */
function shapeWith(clip: Clip, frame: Pick<Frame, "width" | "height"> | undefined): ClipShape {
  const shape = shapeOf(clip);
  return frame && !shape.aspectRatio
    ? { ...shape, aspectRatio: aspectRatioOf(frame.width, frame.height) }
    : shape;
}

/**
 * The frame's Discord link is known only once it is posted; the checks before that run with this stand-in of
 * the same form (no rule looks at a link), so that a refused request posts nothing.
 */
const STAND_IN_FRAME = "https://cdn.discordapp.com/attachments/0/0/last-frame.png";

type FromFrame = (
  clip: Clip,
  prompt: string,
  frameUrl: string,
  frame: Frame | undefined,
  settings: GuildSettingsValue,
) => Validation;

/**
 * A new video from the clip's last frame: the request is checked (its input, then the server's rules and
 * balance) before anything is fetched or posted; then the clip is fetched, its last frame taken with ffmpeg
 * and posted in the channel (a reply to the clip) so that the video service can fetch it by its link, and the
 * request goes on with that link. A request refused after all takes the frame back.
 */
async function fromLastFrame(
  ctx: HandlerContext<ModalSubmitInteraction>,
  id: CustomId,
  build: FromFrame,
): Promise<void> {
  const clip = await clipOf(ctx, id);
  if (!clip || !(await canPostHere(ctx))) return;
  const { interaction, locale, services: s } = ctx;
  const follow = ctx as HandlerContext<FollowUpInteraction>;
  const prompt = interaction.fields.getTextInputValue("prompt");
  const settings = await loadSettings(s.db, clip.job.guildId);
  const early = build(clip, prompt, STAND_IN_FRAME, undefined, settings);
  if (!early.ok) return answer(interaction, refusedInput(locale, early.problems));
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  if (!(await passesRules(follow, settings, early.value))) return;
  const video = await fetchClip(ctx, clip, s.settings.maxVideoBytes);
  if (video === undefined) return;
  if (video === null) return answer(interaction, render.notice(t(locale, "clip.tooLarge")));
  let frame: Frame;
  try {
    frame = await extractLastFrame(video, { signal: s.signal });
  } catch (err) {
    if (!(err instanceof FrameError)) throw err;
    ctx.logger.warn({ err, jobId: clip.job.id }, "could not take a clip's last frame");
    return answer(interaction, render.notice(t(locale, "clip.frameFailed")));
  }
  const replyTo = clipMessage(interaction, clip);
  const channelId = interaction.channelId!;
  const posted = await ctx.posts.post(channelId, render.framePost(locale, interaction.user.id, frame.png), {
    replyTo,
  });
  const takeBack = () => ctx.posts.remove(channelId, posted.id);
  const frameUrl = posted.attachments[0]?.url;
  const validation = frameUrl ? build(clip, prompt, frameUrl, frame, settings) : undefined;
  if (!validation?.ok) {
    await takeBack();
    return answer(
      interaction,
      validation ? refusedInput(locale, validation.problems) : render.notice(t(locale, "clip.frameFailed")),
    );
  }
  await startFollowUp(follow, settings, validation.value, { replyTo, onRefused: takeBack });
}
