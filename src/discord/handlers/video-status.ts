import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { VideoStatus } from "../../../commands/video.js";
import { renderMessage } from "../../i18n/index.js";
import { findGuildJob, type JobRow } from "../../jobs/repository.js";
import { storedRequest } from "../../jobs/request.js";
import { validateStatus } from "../../video/validate.js";
import { readArguments } from "../arguments.js";
import * as render from "../render.js";
import { answer, toDiscord } from "../respond.js";
import type { HandlerContext } from "./context.js";

type Interaction = ChatInputCommandInteraction<"cached" | "raw">;

/** A job as `/video status` and `/video history` list it, with a link to its reply. */
export function jobLine(job: JobRow, guildId: string): render.JobLine {
  return {
    id: job.id,
    state: job.state,
    prompt: storedRequest(job).display.prompt,
    cost: job.chargedCost ?? job.estimatedCost,
    link: job.replyMessageId
      ? `https://discord.com/channels/${guildId}/${job.channelId}/${job.replyMessageId}`
      : undefined,
  };
}

/** `/video status job`: one job of this server, for its member (ephemeral). */
export async function videoStatus(ctx: HandlerContext<Interaction>): Promise<void> {
  const { interaction, locale } = ctx;
  const parsed = validateStatus(readArguments(interaction, VideoStatus));
  if (!parsed.ok)
    return answer(
      interaction,
      render.invalidInput(
        locale,
        parsed.problems.map((p) => renderMessage(locale, p)),
      ),
    );
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const job = await findGuildJob(ctx.services.db, interaction.guildId, parsed.value);
  if (!job) return answer(interaction, render.noSuchJob(locale, parsed.value));
  const message = render.jobStatus(locale, {
    ...jobLine(job, interaction.guildId),
    userId: job.userId,
    createdAt: job.createdAt,
    failure: job.errorCode ? { code: job.errorCode, params: job.errorParams } : undefined,
  });
  await interaction.editReply(toDiscord(message));
}
