import { type InteractionUpdateOptions, type REST, Routes } from "discord.js";
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { jobs } from "../db/schema.js";
import { type Locale, localeOf } from "../i18n/index.js";
import type { JobRow } from "../jobs/repository.js";
import type { Logger } from "../log.js";
import type { GuildSettingsValue } from "../moderation/settings.js";
import { jobSummary } from "./job-replies.js";
import * as render from "./render.js";
import { allowedMentions, messageBody } from "./replies.js";
import { toDiscord } from "./respond.js";

/**
 * The moderators' channel a server names (`/budget config moderator_channel`): approval requests with their
 * buttons, and the audit trail, one line each, pinging nobody. It reads the server's preferred language.
 */
export class ModeratorChannel {
  readonly #rest: REST;
  readonly #db: Database;
  readonly #log: Logger;

  constructor(options: { rest: REST; db: Database; logger: Logger }) {
    this.#rest = options.rest;
    this.#db = options.db;
    this.#log = options.logger;
  }

  /** Post the approval request of a job; its message id is kept to show the decision later. */
  async requestApproval(
    job: JobRow,
    settings: GuildSettingsValue,
    guildLocale: string | null,
  ): Promise<void> {
    if (!settings.moderatorChannelId) {
      this.#log.warn(
        { jobId: job.id, guildId: job.guildId },
        "a job waits for approval but no moderator channel is set",
      );
      return;
    }
    const message = render.approvalRequest(localeOf(guildLocale), jobSummary(job));
    try {
      const posted = (await this.#rest.post(Routes.channelMessages(settings.moderatorChannelId), {
        body: messageBody(message),
      })) as { id: string };
      await this.#db
        .update(jobs)
        .set({ approvalMessageId: posted.id })
        .where(and(eq(jobs.id, job.id), eq(jobs.guildId, job.guildId)));
    } catch (err) {
      this.#log.warn({ err, jobId: job.id }, "could not post the approval request");
    }
  }

  /** Show on the approval request who decided (or that nobody did); its buttons go. */
  async showDecision(
    job: JobRow,
    settings: GuildSettingsValue,
    guildLocale: string | null,
    decided: Parameters<typeof render.approvalRequest>[2] & object,
  ): Promise<void> {
    if (!job.approvalMessageId || !settings.moderatorChannelId) return;
    const message = render.approvalRequest(localeOf(guildLocale), jobSummary(job), decided);
    await this.#rest
      .patch(Routes.channelMessage(settings.moderatorChannelId, job.approvalMessageId), {
        body: messageBody(message),
      })
      .catch((err) =>
        this.#log.warn({ err, jobId: job.id }, "could not show the decision on the approval request"),
      );
  }

  /** One line of the audit trail: who did what, when (Discord shows the time), pinging nobody. */
  async audit(
    settings: GuildSettingsValue,
    guildLocale: string | null,
    line: (locale: Locale) => string,
  ): Promise<void> {
    if (!settings.moderatorChannelId) return;
    const text = render.truncate(line(localeOf(guildLocale)), render.LIMIT.content);
    await this.#rest
      .post(Routes.channelMessages(settings.moderatorChannelId), {
        body: { content: text, allowed_mentions: allowedMentions() },
      })
      .catch((err) => this.#log.warn({ err }, "could not post to the moderator channel"));
  }
}

/** The approval request as discord.js update options, in the server's language (for a click's `update`). */
export function approvalPayload(
  guildLocale: string | null,
  job: JobRow,
  decided: Parameters<typeof render.approvalRequest>[2],
): InteractionUpdateOptions {
  return toDiscord(
    render.approvalRequest(localeOf(guildLocale), jobSummary(job), decided),
  ) as InteractionUpdateOptions;
}
