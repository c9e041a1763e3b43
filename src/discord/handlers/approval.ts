import type { MessageComponentInteraction, ModalSubmitInteraction } from "discord.js";
import { t } from "../../i18n/index.js";
import { approveJob, withdrawJob } from "../../jobs/decide.js";
import { findGuildJob, type JobRow } from "../../jobs/repository.js";
import { loadSettings } from "../../moderation/store.js";
import { type CustomId, formatCustomId } from "../custom-id.js";
import { approvalPayload } from "../moderator-channel.js";
import * as render from "../render.js";
import { answer } from "../respond.js";
import type { HandlerContext } from "./context.js";
import { asManager } from "./guards.js";

/**
 * Approve and Deny on an approval request. The `custom_id` names only the job: the clicker's server and
 * rights are checked on every click, and the decision is one compare-and-set (a second click, or a click
 * from another process at the same moment, changes nothing).
 */

type Clicked = MessageComponentInteraction | ModalSubmitInteraction;

/** The job the click names, in the clicker's server, if the clicker is a manager there; else an answer. */
async function jobForManager(ctx: HandlerContext<Clicked>, id: CustomId): Promise<JobRow | undefined> {
  const { interaction, locale, services: s } = ctx;
  const jobId = Number(id.refs[0]);
  if (!interaction.inGuild() || !Number.isSafeInteger(jobId)) {
    await answer(interaction, render.notice(t(locale, "rights.otherServer")));
    return undefined;
  }
  const job = await findGuildJob(s.db, interaction.guildId, jobId);
  if (!job) {
    await answer(interaction, render.notice(t(locale, "rights.otherServer")));
    return undefined;
  }
  return (await asManager(ctx, interaction.guildId)) ? job : undefined;
}

export async function approveClicked(
  ctx: HandlerContext<MessageComponentInteraction>,
  id: CustomId,
): Promise<void> {
  const job = await jobForManager(ctx, id);
  if (!job) return;
  const { interaction, locale, services: s } = ctx;
  const decision = await approveJob(s, job.guildId, job.id);
  if (decision.kind !== "done") {
    return answer(interaction, render.notice(t(locale, "approval.tooLate", { job: String(job.number) })));
  }
  const settings = await loadSettings(s.db, job.guildId);
  await interaction.update(
    approvalPayload(interaction.guildLocale, decision.job, { kind: "approved", by: interaction.user.id }),
  );
  await ctx.moderation.audit(settings, interaction.guildLocale, (l) =>
    t(l, "audit.approved", {
      actor: `<@${interaction.user.id}>`,
      user: `<@${job.userId}>`,
      job: String(job.number),
    }),
  );
}

/** Deny opens a modal for an optional reason; the decision is taken when it is submitted. */
export async function denyClicked(
  ctx: HandlerContext<MessageComponentInteraction>,
  id: CustomId,
): Promise<void> {
  const job = await jobForManager(ctx, id);
  if (!job) return;
  const { interaction, locale } = ctx;
  if (job.state !== "pending" || !job.needsApproval) {
    return answer(interaction, render.notice(t(locale, "approval.tooLate", { job: String(job.number) })));
  }
  await interaction.showModal({
    title: render.truncate(t(locale, "approval.denyTitle", { job: String(job.number) }), 45),
    custom_id: formatCustomId("deny", job.id),
    components: [
      {
        type: 1,
        components: [
          {
            type: 4,
            custom_id: "reason",
            label: render.truncate(t(locale, "approval.denyReason"), 45),
            style: 2,
            required: false,
            max_length: 200,
          },
        ],
      },
    ],
  });
}

export async function denySubmitted(
  ctx: HandlerContext<ModalSubmitInteraction>,
  id: CustomId,
): Promise<void> {
  const job = await jobForManager(ctx, id);
  if (!job) return;
  const { interaction, locale, services: s } = ctx;
  const reason = interaction.fields.getTextInputValue("reason").trim() || undefined;
  const decision = await withdrawJob(
    s,
    job.guildId,
    job.id,
    { code: "DENIED", params: { by: interaction.user.id, ...(reason ? { reason } : {}) } },
    { onlyAwaitingApproval: true },
  );
  if (decision.kind !== "done") {
    return answer(interaction, render.notice(t(locale, "approval.tooLate", { job: String(job.number) })));
  }
  const settings = await loadSettings(s.db, job.guildId);
  const decided = { kind: "denied" as const, by: interaction.user.id, ...(reason ? { reason } : {}) };
  if (interaction.isFromMessage()) {
    await interaction.update(approvalPayload(interaction.guildLocale, decision.job, decided));
  } else {
    await ctx.moderation.showDecision(decision.job, settings, interaction.guildLocale, decided);
    await answer(
      interaction,
      render.notice(
        t(locale, "approval.done", { job: String(job.number), state: render.stateLabel(locale, "failed") }),
      ),
    );
  }
  await ctx.moderation.audit(settings, interaction.guildLocale, (l) =>
    t(l, "audit.denied", {
      actor: `<@${interaction.user.id}>`,
      user: `<@${job.userId}>`,
      job: String(job.number),
      why: reason ? `: “${render.escapeUserText(reason, 200)}”` : "",
    }),
  );
}
