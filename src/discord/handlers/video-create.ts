import { setTimeout as sleep } from "node:timers/promises";
import {
  type ChatInputCommandInteraction,
  DiscordAPIError,
  type InteractionReplyOptions,
  MessageFlags,
} from "discord.js";
import { type Locale, renderMessage, t } from "../../i18n/index.js";
import { type AcceptResult, acceptVideoRequest, type CheckResult, handOverJob } from "../../jobs/accept.js";
import type { JobRow } from "../../jobs/repository.js";
import type { GuildSettingsValue } from "../../moderation/settings.js";
import { loadSettings } from "../../moderation/store.js";
import type { Validation, ValidationContext } from "../../video/validate.js";
import { DEFAULT_ATTACHMENT_LIMIT, jobSummary } from "../job-replies.js";
import { missingPostPermissions } from "../permissions.js";
import * as render from "../render.js";
import { type Answerable, answer, replyPublicly, toDiscord } from "../respond.js";
import { memberRoleIds } from "../rights.js";
import type { HandlerContext } from "./context.js";

/** The server's defaults, as validation takes them (`/budget config default_model`, `allow_sound`). */
export function validationDefaults(settings: GuildSettingsValue): ValidationContext {
  return {
    ...(settings.defaultModel ? { defaultModel: settings.defaultModel } : {}),
    ...(settings.allowSound ? {} : { defaultSound: false }),
  };
}

/** What the member is told of a request the server's rules or its balance refused (privately). */
export function refusalOf(
  locale: Locale,
  result: Extract<AcceptResult | CheckResult, { kind: "refused" | "insufficient" }>,
  settings: GuildSettingsValue,
): render.ReplyMessage {
  return result.kind === "refused"
    ? render.refused(locale, result.refusal, settings)
    : render.insufficientBudget(locale, result.cost, result.balance);
}

/** A request that made no job: a redelivered interaction (its job answered already), or a private refusal. */
export async function answerUnaccepted(
  ctx: HandlerContext<Answerable>,
  result: Exclude<AcceptResult, { kind: "accepted" }>,
  settings: GuildSettingsValue,
): Promise<void> {
  if (result.kind === "duplicate") {
    ctx.logger.info({ jobId: result.job.id }, "interaction delivered again; the job already exists");
    return;
  }
  await answerPrivately(ctx.interaction, ctx.locale, refusalOf(ctx.locale, result, settings));
}

/**
 * A refusal is the member's business alone (a freeze's reason, the server's balance, their spending). Answered
 * first, it is ephemeral. After a public "thinking…" (a burst, slow checks), whose visibility is fixed, it
 * comes as a private follow-up and the public reply is removed.
 */
export async function answerPrivately(
  interaction: Answerable,
  locale: Locale,
  message: render.ReplyMessage,
): Promise<void> {
  if (!interaction.deferred || interaction.ephemeral) return answer(interaction, message);
  // The deferred reply is edited first: a follow-up right after a deferral would replace the loading message
  // and keep its (public) visibility. Then the private answer, then the public placeholder goes.
  await interaction.editReply(toDiscord(render.notice(t(locale, "reply.answeredPrivately"))));
  const payload = toDiscord(message);
  await interaction.followUp({
    ...payload,
    content: payload.content ?? undefined,
    flags: MessageFlags.Ephemeral,
  } as InteractionReplyOptions);
  await interaction.deleteReply().catch(() => undefined);
}

/** The message of a job just accepted: queued, or waiting for a manager's approval. */
export function acceptedReply(
  locale: Locale,
  job: JobRow,
  balance: number,
  missingPermissions: readonly string[],
): render.ReplyMessage {
  return job.needsApproval
    ? render.awaitingApproval(locale, jobSummary(job), balance)
    : render.queued(locale, jobSummary(job), balance, missingPermissions);
}

/** The interaction token's lifetime (Discord: 15 minutes). */
const TOKEN_LIFETIME_MS = 15 * 60_000;
/** Discord: "Interaction has already been acknowledged" — a redelivered interaction. */
const ALREADY_ACKNOWLEDGED = 40060;
/**
 * The checks and the hold nearly always finish in milliseconds: then the answer is the first response, so a
 * refusal is seen by the member alone and an accepted job's "queued" is public. When they take longer than
 * this (a burst, a slow database), the reply is deferred publicly first, well inside Discord's 3 s.
 */
const ANSWER_WITHIN_MS = 500;

/**
 * Requests this process is deciding at this moment. Above this many, a new one is deferred before any
 * statement of its own: in a burst its statements queue behind the others', and waiting for them (the race
 * above) would defer it late, close to Discord's 3 s.
 */
const BURST = 4;
let deciding = 0;
/**
 * Deferrals of a burst on their way to Discord. A request's statements wait for those under way when its
 * own deferral is done (at most `DEFERRALS_FIRST_MS`): Discord's 3 s are a deadline, the job's "queued" is not.
 */
const deferrals = new Set<Promise<void>>();
const DEFERRALS_FIRST_MS = 1_000;

type Interaction = ChatInputCommandInteraction<"cached" | "raw">;

/**
 * `/video text|image|reference|edit`: validate with the server's defaults, check the server's rules and hold
 * the credits (one transaction), answer "queued" (or the refusal, privately), then hand the job over. The
 * poller sends it to the API.
 */
export function videoCreate(validate: (interaction: Interaction, context: ValidationContext) => Validation) {
  return async (ctx: HandlerContext<Interaction>): Promise<void> => {
    deciding++;
    try {
      // Input that is wrong whatever the server's defaults is answered privately at once, never deferred.
      // In a burst the deferral goes out before this request's statements start: their answers would
      // otherwise hold the event loop that sends the deferrals of the rest of the burst.
      const early = deciding > BURST && validate(ctx.interaction, {}).ok;
      if (early) {
        const deferral = deferPublicly(ctx);
        deferrals.add(deferral);
        await deferral;
        deferrals.delete(deferral);
        await Promise.race([
          Promise.allSettled([...deferrals]),
          sleep(DEFERRALS_FIRST_MS, undefined, { ref: false }),
        ]);
      }
      await decide(ctx, validate, early);
    } finally {
      deciding--;
    }
  };
}

async function decide(
  ctx: HandlerContext<Interaction>,
  validate: (interaction: Interaction, context: ValidationContext) => Validation,
  deferred: boolean,
): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  const settings = await loadSettings(s.db, interaction.guildId);
  const validation = validate(interaction, validationDefaults(settings));
  if (!validation.ok) {
    const problems = validation.problems.map((p) => renderMessage(locale, p));
    return answerPrivately(interaction, locale, render.invalidInput(locale, problems));
  }
  const missingPermissions = missingPostPermissions(
    interaction.appPermissions,
    interaction.channel?.isThread() ?? false,
  );
  const accepting = acceptVideoRequest(s, {
    interactionId: interaction.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    userId: interaction.user.id,
    locale,
    applicationId: interaction.applicationId,
    interactionToken: interaction.token,
    tokenExpiresAt: new Date(interaction.createdTimestamp + TOKEN_LIFETIME_MS),
    request: validation.value,
    delivery: {
      attachmentSizeLimit: interaction.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_LIMIT,
      missingPermissions,
    },
    place: {
      parentChannelId: interaction.channel?.isThread() ? interaction.channel.parentId : null,
      memberRoleIds: memberRoleIds(interaction),
    },
  });
  const quick = deferred
    ? undefined
    : await Promise.race([accepting, sleep(ANSWER_WITHIN_MS).then(() => undefined)]);
  if (!quick && !deferred) await deferPublicly(ctx);
  const result: AcceptResult = quick ?? (await accepting);
  if (result.kind !== "accepted") return answerUnaccepted(ctx, result, settings);
  const job = result.job;
  const message = acceptedReply(locale, job, result.balance, missingPermissions);
  let messageId: string | undefined;
  try {
    messageId = interaction.deferred
      ? (await interaction.editReply(toDiscord(message))).id
      : await replyPublicly(interaction, message);
  } finally {
    await handOverJob(s, job, messageId);
  }
  if (job.needsApproval) await ctx.moderation.requestApproval(job, settings, interaction.guildLocale);
}

/** The public "thinking…" of a request whose job will take a moment to decide. */
async function deferPublicly(ctx: HandlerContext<Interaction>): Promise<void> {
  try {
    await ctx.interaction.deferReply();
  } catch (err) {
    if (!(err instanceof DiscordAPIError && err.code === ALREADY_ACKNOWLEDGED)) {
      // Unknown interaction (10062) and the like: the member saw "did not respond". The job (if the
      // checks passed) is stored and goes on; its reply is written through the channel later.
      ctx.logger.warn({ err, interactionId: ctx.interaction.id }, "could not defer");
    }
  }
}
