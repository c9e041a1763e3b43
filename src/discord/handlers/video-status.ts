import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { VideoStatus } from "../../../commands/video.js";
import { renderMessage } from "../../i18n/index.js";
import { findJobByNumber, type JobRow } from "../../jobs/repository.js";
import { storedRequest } from "../../jobs/request.js";
import { RESULT_URL_LIFETIME_MS } from "../../kling/types.js";
import { validateStatus } from "../../video/validate.js";
import { readArguments } from "../arguments.js";
import * as render from "../render.js";
import { answer, toDiscord } from "../respond.js";
import type { HandlerContext } from "./context.js";

type Interaction = ChatInputCommandInteraction<"cached" | "raw">;

/**
 * A job as `/video status` and `/video history` list it: a link to the message that carries its video (or,
 * before that, to its reply), and for a video that no message carries as a file (linked because of its size,
 * or not posted at all), the API's own link while it lives.
 */
export function jobLine(job: JobRow, now: Date): render.JobLine {
  const display = storedRequest(job).display;
  const shownIn = job.videoMessageId ?? job.replyMessageId;
  let download: render.JobLine["download"];
  if (job.state === "completed" && job.videoAttached !== true && job.resultUrl) {
    const expiresAt = new Date((job.finishedAt ?? job.updatedAt).getTime() + RESULT_URL_LIFETIME_MS);
    download = expiresAt > now ? { url: job.resultUrl, expiresAt } : "expired";
  }
  return {
    number: job.number,
    state: job.state,
    prompt: display.prompt,
    cost: job.chargedCost ?? job.estimatedCost,
    model: display.model,
    duration: display.duration,
    message: shownIn
      ? {
          url: render.messageLink(job.guildId, job.channelId, shownIn),
          carriesVideo: job.videoMessageId !== null,
        }
      : undefined,
    download,
  };
}

/** `/video status job`: one job of this server by its number there, for its member (ephemeral). */
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
  const job = await findJobByNumber(ctx.services.db, interaction.guildId, parsed.value);
  if (!job) return answer(interaction, render.noSuchJob(locale, parsed.value));
  const message = render.jobStatus(locale, {
    ...jobLine(job, ctx.services.now()),
    userId: job.userId,
    createdAt: job.createdAt,
    failure: job.errorCode ? { code: job.errorCode, params: job.errorParams } : undefined,
  });
  await interaction.editReply(toDiscord(message));
}
