import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { BudgetConfig } from "../../../commands/budget.js";
import { orList, t } from "../../i18n/index.js";
import { type KlingModel, MODELS } from "../../kling/types.js";
import type { GuildSettingsValue } from "../../moderation/settings.js";
import { updateSettings } from "../../moderation/store.js";
import { readArguments } from "../arguments.js";
import * as render from "../render.js";
import { answer, toDiscord } from "../respond.js";
import type { HandlerContext } from "./context.js";
import { asManager } from "./guards.js";

type Interaction = ChatInputCommandInteraction<"cached" | "raw">;

/** `/budget config`: with no option, the settings; each option given is saved on its own (managers only). */
export async function budgetConfig(ctx: HandlerContext<Interaction>): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  const current = await asManager(ctx, interaction.guildId);
  if (!current) return;
  const a = readArguments(interaction, BudgetConfig);
  const change: Partial<GuildSettingsValue> = {};
  if (a.daily_cap !== undefined) change.dailyCap = a.daily_cap;
  if (a.member_jobs !== undefined) change.memberJobs = a.member_jobs;
  if (a.server_jobs !== undefined) change.serverJobs = a.server_jobs;
  if (a.max_duration !== undefined) change.maxDuration = a.max_duration;
  if (a.allow_sound !== undefined) change.allowSound = a.allow_sound;
  if (a.allowed_models !== undefined) {
    const wanted = a.allowed_models
      .split(",")
      .map((m) => m.trim().toLowerCase())
      .filter(Boolean);
    const bad = wanted.find((m) => m !== "all" && !(MODELS as readonly string[]).includes(m));
    if (bad !== undefined) {
      return answer(
        interaction,
        render.notice(
          t(locale, "config.badModels", {
            models: orList([...MODELS]),
            value: render.escapeUserText(bad, 30),
          }),
        ),
      );
    }
    change.allowedModels = wanted.includes("all") ? [] : ([...new Set(wanted)] as KlingModel[]);
  }
  if (a.default_model !== undefined) change.defaultModel = a.default_model;
  if (a.moderator_channel !== undefined) change.moderatorChannelId = a.moderator_channel;
  if (a.gallery_channel !== undefined) change.galleryChannelId = a.gallery_channel;
  if (a.manager_role !== undefined) change.managerRoleId = a.manager_role;
  if (a.approval_above !== undefined) change.approvalAbove = a.approval_above;
  const next = { ...current, ...change };
  if (next.approvalAbove > 0 && !next.moderatorChannelId) {
    return answer(interaction, render.notice(t(locale, "config.approvalNeedsChannel")));
  }
  if (next.defaultModel && next.allowedModels.length > 0 && !next.allowedModels.includes(next.defaultModel)) {
    return answer(
      interaction,
      render.notice(t(locale, "config.defaultNotAllowed", { model: next.defaultModel })),
    );
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  if (Object.keys(change).length === 0) {
    await interaction.editReply(toDiscord(render.settings(locale, current)));
    return;
  }
  const saved = await updateSettings(s.db, interaction.guildId, () => change, s.settings.defaultGuildCredits);
  await interaction.editReply(toDiscord(render.settings(locale, saved, true)));
  await ctx.moderation.audit(saved, interaction.guildLocale, (l) =>
    t(l, "audit.config", {
      actor: `<@${interaction.user.id}>`,
      what: Object.keys(change).join(", "),
    }),
  );
}
