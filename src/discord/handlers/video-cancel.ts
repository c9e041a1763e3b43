import { type ChatInputCommandInteraction, type MessageComponentInteraction, MessageFlags } from "discord.js";
import { VideoCancel } from "../../../commands/video.js";
import { renderMessage, t } from "../../i18n/index.js";
import { withdrawJob } from "../../jobs/decide.js";
import { findJobByNumber, type JobRow } from "../../jobs/repository.js";
import { loadSettings } from "../../moderation/store.js";
import { validateStatus } from "../../video/validate.js";
import { readArguments } from "../arguments.js";
import type { CustomId } from "../custom-id.js";
import * as render from "../render.js";
import { answer } from "../respond.js";
import { isManager } from "../rights.js";
import type { HandlerContext } from "./context.js";
import { clickedJob } from "./guards.js";

/**
 * `/video cancel job`, and Cancel on the reply of a job that waits: a job not yet sent (queued, or waiting for
 * approval) ends and its credits go back, once, however many clicks arrive at once and on whichever process
 * (one compare-and-set, jobs/decide.ts); a job the API already has cannot be stopped (the API has no cancel),
 * and the member is told so.
 */
export async function videoCancel(
  ctx: HandlerContext<ChatInputCommandInteraction<"cached" | "raw">>,
): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  const parsed = validateStatus(readArguments(interaction, VideoCancel));
  if (!parsed.ok) {
    return answer(
      interaction,
      render.invalidInput(
        locale,
        parsed.problems.map((p) => renderMessage(locale, p)),
      ),
    );
  }
  const job = await findJobByNumber(s.db, interaction.guildId, parsed.value);
  if (!job) return answer(interaction, render.noSuchJob(locale, parsed.value));
  await cancelJob(ctx, job);
}

/** Cancel on a job's reply: the job the button names, in the clicker's server (another server's: none). */
export async function cancelClicked(
  ctx: HandlerContext<MessageComponentInteraction>,
  id: CustomId,
): Promise<void> {
  const job = await clickedJob(ctx, id);
  if (!job) return answer(ctx.interaction, render.noSuchJob(ctx.locale, Number(id.refs[0])));
  await cancelJob(ctx, job);
}

/** The job's requester or a manager of its server cancels it, if it has not been sent. */
async function cancelJob(
  ctx: HandlerContext<ChatInputCommandInteraction<"cached" | "raw"> | MessageComponentInteraction>,
  job: JobRow,
): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  const settings = await loadSettings(s.db, job.guildId);
  if (job.userId !== interaction.user.id && !isManager(interaction, settings)) {
    return answer(interaction, render.notice(t(locale, "rights.cancel")));
  }
  const number = String(job.number);
  if (job.state === "completed" || job.state === "failed") {
    return answer(
      interaction,
      render.notice(t(locale, "cancel.over", { job: number, state: render.stateLabel(locale, job.state) })),
    );
  }
  if (job.state !== "pending")
    return answer(interaction, render.notice(t(locale, "cancel.sent", { job: number })));
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const decision = await withdrawJob(s, job.guildId, job.id, {
    code: "CANCELLED",
    params: { by: interaction.user.id },
  });
  if (decision.kind !== "done") {
    const state = decision.kind === "too-late" ? decision.job.state : "failed";
    return answer(
      interaction,
      render.notice(
        state === "completed" || state === "failed"
          ? t(locale, "cancel.over", { job: number, state: render.stateLabel(locale, state) })
          : t(locale, "cancel.sent", { job: number }),
      ),
    );
  }
  if (job.needsApproval) {
    await ctx.moderation.showDecision(decision.job, settings, interaction.guildLocale, {
      kind: "cancelled",
      by: interaction.user.id,
    });
  }
  await answer(interaction, render.notice(t(locale, "cancel.done", { job: number })));
}
