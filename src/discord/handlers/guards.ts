import type { BaseInteraction } from "discord.js";
import { t } from "../../i18n/index.js";
import { findGuildJob, type JobRow } from "../../jobs/repository.js";
import type { GuildSettingsValue } from "../../moderation/settings.js";
import { loadSettings } from "../../moderation/store.js";
import type { CustomId } from "../custom-id.js";
import * as render from "../render.js";
import { type Answerable, answer } from "../respond.js";
import { isManager, isOperator } from "../rights.js";
import type { HandlerContext } from "./context.js";

/**
 * The server's settings when the clicker or caller manages that server; otherwise they are told who may, and
 * the result is undefined. Checked on every command and every click.
 */
export async function asManager(
  ctx: HandlerContext<Answerable & BaseInteraction>,
  guildId: string,
): Promise<GuildSettingsValue | undefined> {
  const settings = await loadSettings(ctx.services.db, guildId);
  if (isManager(ctx.interaction, settings)) return settings;
  await answer(ctx.interaction, render.notice(t(ctx.locale, "rights.managers")));
  return undefined;
}

/** Whether the caller operates the bot; otherwise they are told that only operators create credits. */
export async function asOperator(ctx: HandlerContext<Answerable & BaseInteraction>): Promise<boolean> {
  if (isOperator(ctx.interaction, ctx.operatorIds)) return true;
  await answer(ctx.interaction, render.notice(t(ctx.locale, "rights.operators")));
  return false;
}

/**
 * The job a button or modal names, looked up in the clicker's own server only: an id naming another server's
 * job (forged, or copied) finds nothing.
 */
export async function clickedJob(
  ctx: HandlerContext<BaseInteraction>,
  id: CustomId,
): Promise<JobRow | undefined> {
  const jobId = Number(id.refs[0]);
  if (!ctx.interaction.inGuild() || !Number.isSafeInteger(jobId)) return undefined;
  return findGuildJob(ctx.services.db, ctx.interaction.guildId, jobId);
}
