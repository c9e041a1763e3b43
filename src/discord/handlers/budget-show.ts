import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { heldCredits, jobsInFlight } from "../../jobs/repository.js";
import { ensureGuild, getUsage, nextTopUp } from "../../ledger/index.js";
import { memberStanding } from "../../moderation/standing.js";
import * as render from "../render.js";
import { toDiscord } from "../respond.js";
import type { HandlerContext } from "./context.js";

/** `/budget show`: the server's credits, the member's spending and the jobs in flight (ephemeral). */
export async function budgetShow(
  ctx: HandlerContext<ChatInputCommandInteraction<"cached" | "raw">>,
): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const guildId = interaction.guildId;
  const now = s.now();
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  // The balance is the guild's recorded one: a guild seen for the first time gets its starting credits here
  // rather than a made-up zero.
  const guild = await ensureGuild(s.db, guildId, s.settings.defaultGuildCredits);
  const [mine, mineMonth, inFlight, held, standing] = await Promise.all([
    getUsage(s.db, { guildId, userId: interaction.user.id }),
    getUsage(s.db, { guildId, userId: interaction.user.id, since: monthStart }),
    jobsInFlight(s.db, guildId),
    heldCredits(s.db, guildId),
    memberStanding(s.db, guildId, interaction.user.id, now),
  ]);
  const message = render.budget(locale, {
    balance: guild.balance,
    held,
    mineMonth: mineMonth.charged,
    mineAll: mine.charged,
    mineJobs: mine.jobs,
    inFlight: inFlight.map((j) => ({ number: j.number, state: j.state, userId: j.userId })),
    standing,
    nextTopUp: nextTopUp(now),
  });
  await interaction.editReply(toDiscord(message));
}
