import type { BaseInteraction, MessageComponentInteraction, ModalSubmitInteraction } from "discord.js";
import { andList, type Locale, type Message, renderMessage, t } from "../../i18n/index.js";
import {
  type AcceptInput,
  acceptVideoRequest,
  type CheckResult,
  checkVideoRequest,
  handOverJob,
} from "../../jobs/accept.js";
import { withdrawJob } from "../../jobs/decide.js";
import { cost } from "../../kling/pricing.js";
import { taskTypeFor } from "../../kling/types.js";
import { checkPlace } from "../../moderation/rules.js";
import type { GuildSettingsValue } from "../../moderation/settings.js";
import { loadSettings } from "../../moderation/store.js";
import { DEFAULT_MODEL, LIMITS, type Model } from "../../video/limits.js";
import type { VideoRequest } from "../../video/validate.js";
import { DEFAULT_ATTACHMENT_LIMIT } from "../job-replies.js";
import { missingPostPermissions } from "../permissions.js";
import * as render from "../render.js";
import { type Answerable, answer } from "../respond.js";
import { memberRoleIds } from "../rights.js";
import type { HandlerContext } from "./context.js";
import { acceptedReply, answerUnaccepted, refusalOf } from "./video-create.js";

/**
 * A new video made from something already in a channel: a delivered clip's buttons, "Animate with Kling" on a
 * message. It takes the road of `/video`: the request validated by src/video, the server's rules and the hold
 * in one transaction (jobs/accept.ts), the poller sends it. What differs is where it shows: the new job's
 * message is the bot's own post in the channel, a reply to the message it came from (pinging nobody), edited
 * through the channel for the rest of the job's life; the member who clicked is answered privately — a
 * refusal, or a link to the new message.
 */

export type FollowUpInteraction = (MessageComponentInteraction | ModalSubmitInteraction) & {
  guildId: string;
};

/** The request as `acceptVideoRequest` takes it, for the clicker in the channel of the click. */
function acceptInput(ctx: HandlerContext<FollowUpInteraction>, request: VideoRequest): AcceptInput {
  const { interaction, locale } = ctx;
  return {
    interactionId: interaction.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId!,
    userId: interaction.user.id,
    locale,
    applicationId: interaction.applicationId,
    // The job's message is a channel post, not this interaction's reply: it is edited through the channel.
    interactionToken: null,
    tokenExpiresAt: new Date(interaction.createdTimestamp),
    request,
    delivery: { attachmentSizeLimit: DEFAULT_ATTACHMENT_LIMIT, missingPermissions: [] },
    place: {
      parentChannelId: interaction.channel?.isThread() ? interaction.channel.parentId : null,
      memberRoleIds: memberRoleIds(interaction),
    },
  };
}

/**
 * What an image-to-video of `model` costs for `duration` seconds (the default when none), with sound unless
 * the server does not allow it or the clip had none, as validation would make it.
 */
export function imageToVideoCost(
  model: string,
  duration: number | undefined,
  sound: boolean | undefined,
  settings: GuildSettingsValue,
): number {
  const type = taskTypeFor("image-to-video", model as Model) ?? taskTypeFor("image-to-video", DEFAULT_MODEL)!;
  return cost(type, duration ?? LIMITS.durationDefault, settings.allowSound && sound !== false);
}

/** Input a modal gave that validation refused: every problem, in the member's language; nothing held. */
export function refusedInput(locale: Locale, problems: readonly Message[]): render.ReplyMessage {
  return render.invalidInput(
    locale,
    problems.map((p) => renderMessage(locale, p)),
  );
}

type InChannel = Pick<BaseInteraction, "appPermissions" | "channel">;

/** What the bot lacks to post, and reply, in the channel of an interaction. */
function missingIn(interaction: InChannel): string[] {
  return missingPostPermissions(interaction.appPermissions, interaction.channel?.isThread() ?? false, true);
}

/**
 * Whether the bot can post (and reply) in the channel of the click: the new job's message and everything
 * after it go there. Otherwise the member is told which permissions are missing, and nothing is held.
 */
export async function canPostHere(ctx: HandlerContext<Answerable & InChannel>): Promise<boolean> {
  const missing = missingIn(ctx.interaction);
  if (missing.length === 0) return true;
  await answer(ctx.interaction, cantPost(ctx, missing));
  return false;
}

function cantPost(ctx: HandlerContext<unknown>, missing: readonly string[]): render.ReplyMessage {
  if (missing.length === 0) return render.notice(t(ctx.locale, "reason.NOT_POSTED"));
  const permissions = andList(missing.map((p) => render.permissionName(ctx.locale, p)));
  return render.notice(t(ctx.locale, "clip.cantPost", { permissions }));
}

/**
 * Before a form opens: the member may make videos in this channel (the server's channels and roles), and the
 * bot may post here; otherwise they are told why, privately. The rules that count (caps, balance) are
 * checked when the request is made, as for `/video`.
 */
export async function mayAskHere(
  ctx: HandlerContext<Answerable & BaseInteraction>,
): Promise<GuildSettingsValue | undefined> {
  const { interaction, locale, services: s } = ctx;
  const settings = await loadSettings(s.db, interaction.guildId!);
  const refusal = checkPlace(settings, {
    channelId: interaction.channelId!,
    parentChannelId: interaction.channel?.isThread() ? interaction.channel.parentId : null,
    memberRoleIds: memberRoleIds(interaction),
  });
  if (refusal) {
    await answer(interaction, render.refused(locale, refusal, settings));
    return undefined;
  }
  return (await canPostHere(ctx)) ? settings : undefined;
}

/**
 * Whether the request would pass the server's rules and balance now, before work that leaves traces (a frame
 * posted in the channel); a refusal is answered privately.
 */
export async function passesRules(
  ctx: HandlerContext<FollowUpInteraction>,
  settings: GuildSettingsValue,
  request: VideoRequest,
): Promise<boolean> {
  const result: CheckResult = await checkVideoRequest(ctx.services, acceptInput(ctx, request));
  if (result.kind === "acceptable") return true;
  if (result.kind === "refused" || result.kind === "insufficient") {
    await answer(ctx.interaction, refusalOf(ctx.locale, result, settings));
  }
  return false;
}

/**
 * Accept the request as a job of the clicker (or refuse it privately), post its message as a reply to
 * `replyTo`, hand it to the pollers, and tell the clicker where it is. `onRefused` undoes what the request
 * needed that nobody will use now (a frame posted for it).
 */
export async function startFollowUp(
  ctx: HandlerContext<FollowUpInteraction>,
  settings: GuildSettingsValue,
  request: VideoRequest,
  options: { replyTo: string | undefined; onRefused?: () => Promise<void> },
): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  const result = await acceptVideoRequest(s, acceptInput(ctx, request));
  if (result.kind !== "accepted") {
    if (result.kind !== "duplicate") await options.onRefused?.();
    return answerUnaccepted(ctx, result, settings);
  }
  const job = result.job;
  const channelId = interaction.channelId!;
  let messageId: string | undefined;
  try {
    const message = acceptedReply(locale, job, result.balance, []);
    messageId = (await ctx.posts.post(channelId, message, { replyTo: options.replyTo })).id;
  } catch (err) {
    ctx.logger.warn({ err, jobId: job.id }, "could not post a new job's message; withdrawing the job");
    const withdrawn = await withdrawJob(s, job.guildId, job.id, { code: "NOT_POSTED", params: {} });
    if (withdrawn.kind === "done") {
      await options.onRefused?.();
      return answer(interaction, cantPost(ctx, missingIn(interaction)));
    }
  }
  await handOverJob(s, job, messageId);
  if (job.needsApproval) await ctx.moderation.requestApproval(job, settings, interaction.guildLocale);
  // Without its own message (a post that failed after a poller took the job on), its replies come later.
  const link = messageId ? render.messageLink(job.guildId, channelId, messageId) : `#${job.number}`;
  await answer(interaction, render.notice(t(locale, "clip.queued", { link })));
}
