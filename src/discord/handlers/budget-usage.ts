import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { BudgetUsage, USAGE_PERIODS, type UsagePeriod } from "../../../commands/budget.js";
import { renderMessage } from "../../i18n/index.js";
import { heldCredits } from "../../jobs/repository.js";
import { modelOf } from "../../kling/types.js";
import { getSpending } from "../../ledger/index.js";
import { say } from "../../video/messages.js";
import { readArguments } from "../arguments.js";
import * as render from "../render.js";
import { answer, toDiscord } from "../respond.js";
import type { HandlerContext } from "./context.js";
import { asManager } from "./guards.js";

type Interaction = ChatInputCommandInteraction<"cached" | "raw">;

const DAY_MS = 24 * 3_600_000;

/** Where a period starts (UTC): today's midnight, 7 or 30 days back, or the 1st of the month. */
export function periodStart(period: UsagePeriod, now: Date): Date {
  switch (period) {
    case "today":
      return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    case "7d":
      return new Date(now.getTime() - 7 * DAY_MS);
    case "30d":
      return new Date(now.getTime() - 30 * DAY_MS);
    case "month":
      return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  }
}

/** `/budget usage [period]`: spending per member and per model, as a table and a CSV file (managers only). */
export async function budgetUsage(ctx: HandlerContext<Interaction>): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  if (!(await asManager(ctx, interaction.guildId))) return;
  const { period = "month" } = readArguments(interaction, BudgetUsage);
  if (!(USAGE_PERIODS as readonly string[]).includes(period)) {
    // Only a stale registration or a forged payload gets here: Discord offers the choices.
    const problem = say.notChoice("period", USAGE_PERIODS);
    return answer(interaction, render.invalidInput(locale, [renderMessage(locale, problem)]));
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const now = s.now();
  const since = periodStart(period, now);
  const [spent, held] = await Promise.all([
    getSpending(s.db, { guildId: interaction.guildId, since }),
    heldCredits(s.db, interaction.guildId),
  ]);
  const rows = byMemberAndModel(spent);
  const names = await displayNames(interaction, [...new Set(rows.map((r) => r.userId))]);
  const view: render.UsageView = {
    period,
    since,
    rows: rows.map((r) => ({ ...r, name: names.get(r.userId) ?? r.userId })),
    held,
    now,
  };
  await interaction.editReply(toDiscord(render.usageReport(locale, view)));
}

interface MemberModel {
  userId: string;
  model: string;
  jobs: number;
  credits: number;
}

/**
 * One row per member and model (task types of one model add up), members by what they spent in all, then
 * each member's models by credits.
 */
function byMemberAndModel(spent: Awaited<ReturnType<typeof getSpending>>): MemberModel[] {
  const rows = new Map<string, MemberModel>();
  const perMember = new Map<string, number>();
  for (const r of spent) {
    const model = modelOf(r.taskType) ?? r.taskType;
    const key = `${r.userId} ${model}`;
    const row = rows.get(key) ?? { userId: r.userId, model, jobs: 0, credits: 0 };
    row.jobs += r.jobs;
    row.credits += r.credits;
    rows.set(key, row);
    perMember.set(r.userId, (perMember.get(r.userId) ?? 0) + r.credits);
  }
  return [...rows.values()].sort(
    (a, b) =>
      perMember.get(b.userId)! - perMember.get(a.userId)! ||
      a.userId.localeCompare(b.userId) ||
      b.credits - a.credits ||
      a.model.localeCompare(b.model),
  );
}

/** At most this many names are looked up (the table shows about as many rows; the CSV has ids). */
const NAMES_LOOKED_UP = 30;

/**
 * Members' names as the table shows them: the server nickname when discord.js has the member, else the
 * user's display name (one REST read each, cached by discord.js); the id when neither can be read.
 */
async function displayNames(interaction: Interaction, ids: readonly string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  await Promise.all(
    ids.slice(0, NAMES_LOOKED_UP).map(async (id) => {
      const member = interaction.guild?.members.cache.get(id);
      if (member) return void names.set(id, member.displayName);
      try {
        names.set(id, (await interaction.client.users.fetch(id)).displayName);
      } catch {
        // Unknown to Discord (a deleted account): the id stands for it.
      }
    }),
  );
  return names;
}
