import { type ChatInputCommandInteraction, DiscordAPIError } from "discord.js";
import { renderMessage } from "../../i18n/index.js";
import { acceptVideoRequest, handOverJob } from "../../jobs/accept.js";
import type { Validation } from "../../video/validate.js";
import { DEFAULT_ATTACHMENT_LIMIT, jobSummary } from "../job-replies.js";
import { missingPostPermissions } from "../permissions.js";
import * as render from "../render.js";
import { answer, toDiscord } from "../respond.js";
import type { HandlerContext } from "./context.js";

/** The interaction token's lifetime (Discord: 15 minutes). */
const TOKEN_LIFETIME_MS = 15 * 60_000;
/** Discord: "Interaction has already been acknowledged" — a redelivered interaction. */
const ALREADY_ACKNOWLEDGED = 40060;

type Interaction = ChatInputCommandInteraction<"cached" | "raw">;

/**
 * `/video text|image|reference|edit`: validate (a refusal is ephemeral and holds nothing), defer publicly,
 * store the job with its credits held, and answer "queued". The poller sends it to the API.
 */
export function videoCreate(validate: (interaction: Interaction) => Validation) {
  return async (ctx: HandlerContext<Interaction>): Promise<void> => {
    const { interaction, locale, services: s } = ctx;
    const validation = validate(interaction);
    if (!validation.ok)
      return answer(
        interaction,
        render.invalidInput(
          locale,
          validation.problems.map((p) => renderMessage(locale, p)),
        ),
      );
    // Discord allows 3 s for the first answer: defer before any I/O.
    try {
      await interaction.deferReply();
    } catch (err) {
      if (!(err instanceof DiscordAPIError && err.code === ALREADY_ACKNOWLEDGED)) {
        // Unknown interaction (10062) and the like: the member saw "did not respond"; nothing was held.
        ctx.logger.warn({ err, interactionId: interaction.id }, "could not defer; nothing was reserved");
        return;
      }
    }
    const missingPermissions = missingPostPermissions(
      interaction.appPermissions,
      interaction.channel?.isThread() ?? false,
    );
    const result = await acceptVideoRequest(s, {
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
    });
    switch (result.kind) {
      case "duplicate":
        ctx.logger.info({ jobId: result.job.id }, "interaction delivered again; the job already exists");
        return;
      case "insufficient":
        return answer(interaction, render.insufficientBudget(locale, result.cost, result.balance));
      case "accepted": {
        const message = render.queued(locale, jobSummary(result.job), result.balance, missingPermissions);
        let messageId: string | undefined;
        try {
          messageId = (await interaction.editReply(toDiscord(message))).id;
        } finally {
          await handOverJob(s, result.job, messageId);
        }
        return;
      }
    }
  };
}
