import {
  type ChatInputCommandInteraction,
  type InteractionUpdateOptions,
  type MessageComponentInteraction,
  MessageFlags,
} from "discord.js";
import { t } from "../../i18n/index.js";
import type { JobServices } from "../../jobs/services.js";
import { getBalance, ledgerPage } from "../../ledger/index.js";
import type { CustomId } from "../custom-id.js";
import * as render from "../render.js";
import { answer, toDiscord } from "../respond.js";
import type { HandlerContext } from "./context.js";
import { asManager } from "./guards.js";

/** Rows on one page of `/budget ledger`. */
const PAGE_ROWS = 10;

async function ledgerView(
  s: JobServices,
  guildId: string,
  cursor: { before?: number; after?: number },
): Promise<render.LedgerView> {
  const [page, balance] = await Promise.all([
    ledgerPage(s.db, { guildId, limit: PAGE_ROWS, ...cursor }),
    getBalance(s.db, guildId),
  ]);
  return { guildId, balance, ...page };
}

/** `/budget ledger`: the latest rows of this server's ledger, with Previous and Next (managers only). */
export async function budgetLedger(
  ctx: HandlerContext<ChatInputCommandInteraction<"cached" | "raw">>,
): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  if (!(await asManager(ctx, interaction.guildId))) return;
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const view = await ledgerView(s, interaction.guildId, {});
  await interaction.editReply(toDiscord(render.ledger(locale, view)));
}

/**
 * Previous (`ledger-newer`) and Next (`ledger-older`) on a ledger page; the id names the page's server and where
 * the page starts. Checked on every click: the server must be the clicker's, and the clicker its manager;
 * a page of another server shows nothing of it.
 */
export async function ledgerClicked(
  ctx: HandlerContext<MessageComponentInteraction>,
  id: CustomId,
): Promise<void> {
  const { interaction, locale, services: s } = ctx;
  const [guildId, ref] = id.refs;
  const cursor = Number(ref);
  if (!interaction.inGuild() || guildId !== interaction.guildId || !Number.isSafeInteger(cursor)) {
    return answer(interaction, render.notice(t(locale, "rights.otherServer")));
  }
  if (!(await asManager(ctx, guildId))) return;
  const older = id.action === "ledger-older";
  // A page starts after row 0 at the earliest, and ends before row 1 at the latest.
  if (cursor < (older ? 1 : 0)) return answer(interaction, render.unknownComponent(locale));
  const view = await ledgerView(s, guildId, older ? { before: cursor } : { after: cursor });
  await interaction.update(toDiscord(render.ledger(locale, view)) as InteractionUpdateOptions);
}
