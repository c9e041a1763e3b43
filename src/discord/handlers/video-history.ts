import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { recentJobsOfUser } from "../../jobs/repository.js";
import * as render from "../render.js";
import { toDiscord } from "../respond.js";
import type { HandlerContext } from "./context.js";
import { jobLine } from "./video-status.js";

/** `/video history`: the member's latest jobs in this server (ephemeral). */
export async function videoHistory(
  ctx: HandlerContext<ChatInputCommandInteraction<"cached" | "raw">>,
): Promise<void> {
  const { interaction, locale } = ctx;
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const rows = await recentJobsOfUser(ctx.services.db, interaction.guildId, interaction.user.id, 10);
  const now = ctx.services.now();
  const message = render.history(
    locale,
    rows.map((j) => jobLine(j, now)),
  );
  await interaction.editReply(toDiscord(message));
}
