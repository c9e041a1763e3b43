import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { BudgetFreeze, BudgetUnfreeze } from "../../../commands/budget.js";
import { t } from "../../i18n/index.js";
import { freezeMember, unfreezeMember } from "../../moderation/store.js";
import { readArguments } from "../arguments.js";
import * as render from "../render.js";
import { answer } from "../respond.js";
import type { HandlerContext } from "./context.js";
import { asManager } from "./guards.js";

type Interaction = ChatInputCommandInteraction<"cached" | "raw">;

/** `/budget freeze member [reason]`: stop one member's spending (managers only). */
export async function budgetFreeze(ctx: HandlerContext<Interaction>): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  const settings = await asManager(ctx, interaction.guildId);
  if (!settings) return;
  const { member, reason } = readArguments(interaction, BudgetFreeze);
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  await freezeMember(s.db, {
    guildId: interaction.guildId,
    userId: member,
    actorId: interaction.user.id,
    reason: reason ?? null,
  });
  await answer(interaction, render.notice(t(locale, "freeze.done", { user: `<@${member}>` })));
  await ctx.moderation.audit(settings, interaction.guildLocale, (l) =>
    t(l, "audit.freeze", {
      actor: `<@${interaction.user.id}>`,
      user: `<@${member}>`,
      why: reason ? `: “${render.escapeUserText(reason, 200)}”` : "",
    }),
  );
}

/** `/budget unfreeze member`: let a member spend again (managers only). */
export async function budgetUnfreeze(ctx: HandlerContext<Interaction>): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  const settings = await asManager(ctx, interaction.guildId);
  if (!settings) return;
  const { member } = readArguments(interaction, BudgetUnfreeze);
  const was = await unfreezeMember(s.db, interaction.guildId, member);
  await answer(
    interaction,
    render.notice(t(locale, was ? "freeze.undone" : "freeze.notFrozen", { user: `<@${member}>` })),
  );
  if (was) {
    await ctx.moderation.audit(settings, interaction.guildLocale, (l) =>
      t(l, "audit.unfreeze", { actor: `<@${interaction.user.id}>`, user: `<@${member}>` }),
    );
  }
}
