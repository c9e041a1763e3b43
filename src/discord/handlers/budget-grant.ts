import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { BudgetAllowance, BudgetGrant } from "../../../commands/budget.js";
import { formatCredits, t } from "../../i18n/index.js";
import { grantCredits, nextTopUp, setAllowance } from "../../ledger/index.js";
import { loadSettings } from "../../moderation/store.js";
import { readArguments } from "../arguments.js";
import * as render from "../render.js";
import { answer } from "../respond.js";
import type { HandlerContext } from "./context.js";
import { asOperator } from "./guards.js";

type Interaction = ChatInputCommandInteraction<"cached" | "raw">;
const SNOWFLAKE = /^\d{17,20}$/;

/** The server an operator's command is for: `guild_id`, else this one; a malformed id is answered. */
async function targetGuild(
  ctx: HandlerContext<Interaction>,
  given: string | undefined,
): Promise<string | undefined> {
  const guildId = given?.trim() || ctx.interaction.guildId;
  if (SNOWFLAKE.test(guildId)) return guildId;
  await answer(ctx.interaction, render.notice(t(ctx.locale, "grant.badGuild")));
  return undefined;
}

/** `/budget grant`: operators add credits, or remove them down to zero; a ledger row with who and why. */
export async function budgetGrant(ctx: HandlerContext<Interaction>): Promise<void> {
  const { interaction, locale } = ctx;
  if (!(await asOperator(ctx))) return;
  const args = readArguments(interaction, BudgetGrant);
  const guildId = await targetGuild(ctx, args.guild_id);
  if (!guildId) return;
  if (!Number.isSafeInteger(args.credits) || args.credits === 0) {
    return answer(interaction, render.notice(t(locale, "grant.zero")));
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const result = await grantCredits(ctx.services.db, {
    guildId,
    amount: args.credits,
    actorId: interaction.user.id,
    reason: args.reason,
  });
  const change = `${result.applied >= 0 ? "+" : "−"}${formatCredits(locale, Math.abs(result.applied))}`;
  const balance = formatCredits(locale, result.balance);
  const text =
    result.applied === result.requested
      ? t(locale, "grant.done", { change, reason: render.escapeUserText(args.reason, 200), balance })
      : t(locale, "grant.clamped", { applied: formatCredits(locale, -result.applied), balance });
  await answer(interaction, render.notice(text));
  const settings = await loadSettings(ctx.services.db, guildId);
  if (guildId === interaction.guildId) {
    await ctx.moderation.audit(settings, interaction.guildLocale, (l) =>
      t(l, "audit.grant", {
        actor: `<@${interaction.user.id}>`,
        change: `${result.applied >= 0 ? "+" : "−"}${formatCredits(l, Math.abs(result.applied))}`,
        reason: render.escapeUserText(args.reason, 200),
        balance: formatCredits(l, result.balance),
      }),
    );
  }
}

/** `/budget allowance`: operators set the monthly top-up (0: off). */
export async function budgetAllowance(ctx: HandlerContext<Interaction>): Promise<void> {
  const { interaction, locale } = ctx;
  if (!(await asOperator(ctx))) return;
  const args = readArguments(interaction, BudgetAllowance);
  const guildId = await targetGuild(ctx, args.guild_id);
  if (!guildId) return;
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const now = ctx.services.now();
  await setAllowance(ctx.services.db, {
    guildId,
    credits: args.credits > 0 ? args.credits : null,
    actorId: interaction.user.id,
    now,
  });
  const next = `<t:${Math.floor(nextTopUp(now).getTime() / 1000)}:D>`;
  await answer(
    interaction,
    render.notice(
      args.credits > 0
        ? t(locale, "allowance.set", { credits: formatCredits(locale, args.credits), next })
        : t(locale, "allowance.off"),
    ),
  );
}
