import { escapeMarkdown } from "discord.js";
import type { UsagePeriod } from "../../commands/budget.js";
import {
  andList,
  type CatalogueKey,
  formatCredits as credits,
  formatDuration as duration,
  formatNumber,
  hasKey,
  type Locale,
  orList,
  t,
} from "../i18n/index.js";
import type { Failure, FinishedVideo, ProgressFigures } from "../jobs/port.js";
import type { Display } from "../jobs/request.js";
import type { JobState } from "../jobs/states.js";
import type { LedgerLine } from "../ledger/index.js";
import type { Refusal } from "../moderation/rules.js";
import type { Standing } from "../moderation/standing.js";
import { MODELS, type Model } from "../video/limits.js";
import { formatCustomId } from "./custom-id.js";
import { cell, displayWidth, textTable } from "./text-table.js";

/**
 * Every reply the bot sends is built here, in the reader's language: plain data, no pings, truncated to
 * Discord's limits. The sender adds `allowed_mentions` that parse nothing, naming the requester only where
 * `pingUserId` is set. Handlers and the job adapter never assemble embeds themselves.
 */

export interface EmbedField {
  name: string;
  value: string;
  inline?: boolean;
}
export interface Embed {
  title?: string;
  description?: string;
  color?: number;
  fields?: EmbedField[];
  footer?: { text: string };
  url?: string;
}
export interface ReplyFile {
  name: string;
  data: Buffer;
  contentType?: string;
}
/** A row of buttons (Discord's component JSON); `custom_id`s follow custom-id.ts. */
export interface ButtonRow {
  type: 1;
  components: { type: 2; style: 1 | 2 | 3 | 4; label: string; custom_id: string; disabled?: boolean }[];
}
export interface ReplyMessage {
  content: string;
  embeds: Embed[];
  files?: ReplyFile[];
  /** Buttons; an empty list removes the message's buttons. */
  components?: ButtonRow[];
  /** The only user this message may ping. */
  pingUserId?: string;
}

export const COLOR = { info: 0x5865f2, progress: 0xfaa61a, success: 0x3ba55d, failure: 0xed4245 } as const;

export const LIMIT = {
  content: 2000,
  title: 256,
  description: 4096,
  fieldValue: 1024,
  footer: 2048,
} as const;

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = Math.max(0, max - 1);
  // Never split a surrogate pair (an emoji) in half.
  if (cut > 0 && /[\uD800-\uDBFF]/.test(text[cut - 1] ?? "")) cut -= 1;
  return `${text.slice(0, cut).trimEnd()}…`;
}

/**
 * Echoed user text: markdown escaped and mentions made inert (a zero-width space after `@`), so that
 * even a client that ignored `allowed_mentions` would ping nobody.
 */
export function escapeUserText(text: string, max: number): string {
  const inert = text.replace(/@/g, "@\u200b").replace(/<(@[!&]?|#)(\d+)>/g, "<$1\u200b$2>");
  // Masked links, headings and lists too: a prompt must not become a clickable "[Claim Nitro](…)" link.
  const escaped = escapeMarkdown(inert, {
    maskedLink: true,
    heading: true,
    bulletedList: true,
    numberedList: true,
  });
  return truncate(escaped, max);
}

export function progressBar(fraction: number, width = 12): string {
  const f = Math.min(Math.max(fraction, 0), 1);
  const filled = Math.round(f * width);
  return `${"▰".repeat(filled)}${"▱".repeat(width - filled)} ${Math.floor(f * 100)}%`;
}

/** What the replies need to know of a job. */
export interface JobSummary {
  /** Internal: custom_ids carry it. */
  id: number;
  /** What members see: the job's number in its server. */
  number: number;
  userId: string;
  display: Display;
  estimatedCost: number;
}

function modelLabel(locale: Locale, model: string): string {
  return (MODELS as readonly string[]).includes(model) ? t(locale, `model.${model as Model}`) : model;
}

/** A video's length as asked ("5 s"), or, for an edit, that it follows the source. */
function durationText(locale: Locale, seconds: number | undefined): string {
  return seconds
    ? t(locale, "reply.field.durationSeconds", { seconds })
    : t(locale, "reply.field.sameAsSource");
}

function describe(locale: Locale, job: JobSummary): EmbedField[] {
  const d = job.display;
  const fields: EmbedField[] = [
    { name: t(locale, "reply.field.model"), value: modelLabel(locale, d.model), inline: true },
    { name: t(locale, "reply.field.duration"), value: durationText(locale, d.duration), inline: true },
  ];
  if (d.aspectRatio) {
    fields.push({ name: t(locale, "reply.field.aspectRatio"), value: d.aspectRatio, inline: true });
  }
  if (d.sound !== undefined) {
    fields.push({
      name: t(locale, "reply.field.sound"),
      value: t(locale, d.sound ? "reply.field.soundOn" : "reply.field.soundOff"),
      inline: true,
    });
  }
  fields.push({ name: t(locale, "reply.field.requestedBy"), value: `<@${job.userId}>`, inline: true });
  return fields;
}

function promptDescription(job: JobSummary, extra = ""): string {
  const tail = truncate(extra, 2000);
  const room = LIMIT.description - tail.length - 8;
  return `${escapeUserText(job.display.prompt, Math.min(room, 1500))}${tail ? `\n\n${tail}` : ""}`;
}

function jobEmbed(locale: Locale, job: JobSummary, title: string, color: number, extra: string): Embed {
  return { title, color, description: promptDescription(job, extra), fields: describe(locale, job) };
}

export function invalidInput(locale: Locale, problems: readonly string[]): ReplyMessage {
  const lines = problems.slice(0, 15).map((p) => `• ${p}`);
  return {
    content: truncate(t(locale, "reply.invalidInput", { problems: lines.join("\n") }), LIMIT.content),
    embeds: [],
  };
}

export function guildOnly(locale: Locale): ReplyMessage {
  return { content: t(locale, "reply.guildOnly"), embeds: [] };
}

export function insufficientBudget(locale: Locale, cost: number, balance: number): ReplyMessage {
  return {
    content: "",
    embeds: [
      {
        title: t(locale, "reply.insufficient.title"),
        color: COLOR.failure,
        description: t(locale, "reply.insufficient.body", {
          cost: credits(locale, cost),
          balance: credits(locale, balance),
          short: credits(locale, cost - balance),
        }),
      },
    ],
  };
}

const PERMISSION_KEYS: Readonly<Record<string, CatalogueKey>> = {
  ViewChannel: "perm.viewChannel",
  SendMessages: "perm.sendMessages",
  SendMessagesInThreads: "perm.sendMessagesInThreads",
  AttachFiles: "perm.attachFiles",
  EmbedLinks: "perm.embedLinks",
  ReadMessageHistory: "perm.readMessageHistory",
};

/** A Discord permission, by its flag name, as the member's Discord client names it. */
export function permissionName(locale: Locale, flag: string): string {
  const key = PERMISSION_KEYS[flag] as "perm.viewChannel" | undefined;
  return key ? t(locale, key) : flag;
}

/** The job is stored, its credits are held, and it waits to be sent. */
export function queued(
  locale: Locale,
  job: JobSummary,
  balanceLeft: number,
  missingPermissions: readonly string[] = [],
): ReplyMessage {
  const extra = [
    t(locale, "reply.queued.held", {
      held: credits(locale, job.estimatedCost),
      left: credits(locale, balanceLeft),
    }),
  ];
  if (missingPermissions.length > 0) {
    const permissions = andList(missingPermissions.map((p) => permissionName(locale, p)));
    extra.push(`⚠️ ${t(locale, "reply.warning.missingPermissions", { permissions })}`);
  }
  const title = t(locale, "reply.queued.title", { job: String(job.number) });
  return {
    content: "",
    embeds: [jobEmbed(locale, job, title, COLOR.info, extra.join("\n"))],
    components: cancelButtons(job, locale),
  };
}

/** The job waits to be sent: for a free place on the API account, or after the video service asked to slow down. */
export function waiting(
  locale: Locale,
  job: JobSummary,
  info: { place: number; why: "slowed" | "turn" },
): ReplyMessage {
  const title = t(locale, "reply.queued.title", { job: String(job.number) });
  const text = t(locale, info.why === "turn" ? "progress.waiting.turn" : "progress.waiting", {
    place: info.place,
  });
  return {
    content: "",
    embeds: [jobEmbed(locale, job, title, COLOR.info, text)],
    components: cancelButtons(job, locale),
  };
}

/**
 * The progress bar and the time left, from figures rounded alike (see `progressFigures`), so that elapsed + left
 * = the estimate and the share is theirs. Past the estimate it says so, without a bar.
 */
export function progress(locale: Locale, job: JobSummary, view: ProgressFigures): ReplyMessage {
  const elapsed = duration(locale, view.elapsedMs);
  const leftMs = view.estimateMs - view.elapsedMs;
  const line =
    leftMs > 0
      ? `${progressBar(view.elapsedMs / view.estimateMs)}\n${t(locale, "progress.elapsedLeft", { elapsed, left: duration(locale, leftMs) })}`
      : t(locale, "progress.overdue", { elapsed, usual: duration(locale, view.estimateMs) });
  const title = t(locale, "progress.title", { job: String(job.number) });
  return { content: "", embeds: [jobEmbed(locale, job, title, COLOR.progress, line)] };
}

export type LinkReason = { kind: "too-large"; limitMiB: number } | { kind: "refused-by-discord" };

/** What the message that carries the video says of its cost: the charge and the server's balance after it. */
export interface DeliveredFigures {
  charged: number;
  tookMs: number;
  balance: number;
}

export interface DeliveredView extends DeliveredFigures {
  file?: ReplyFile;
  /** Set when the video is linked rather than attached. */
  link?: { url: string; why: LinkReason };
}

/** Attach or link: the file when it was fetched within the limit, its link otherwise. */
export function deliveredView(
  video: FinishedVideo,
  figures: DeliveredFigures,
  jobNumber: number,
  limit: number,
): DeliveredView {
  if (video.file) {
    const { extension, data, contentType } = video.file;
    return { ...figures, file: { name: `video-${jobNumber}.${extension}`, data, contentType } };
  }
  const limitMiB = Math.floor(limit / 1024 / 1024);
  return { ...figures, link: { url: video.url, why: { kind: "too-large", limitMiB } } };
}

/**
 * The message that carries the video — the one place it is built. A new message that names and pings the
 * requester alone; what else goes on it (buttons) goes here.
 */
export function delivered(locale: Locale, job: JobSummary, view: DeliveredView): ReplyMessage {
  const lines = [
    t(locale, "delivered.done", {
      took: duration(locale, view.tookMs),
      charged: credits(locale, view.charged),
      balance: credits(locale, view.balance),
    }),
  ];
  if (view.link) {
    const why =
      view.link.why.kind === "too-large"
        ? t(locale, "delivered.why.tooLarge", { mib: view.link.why.limitMiB })
        : t(locale, "delivered.why.refused");
    lines.push(t(locale, "delivered.link", { url: view.link.url, why }));
  }
  const title = t(locale, "delivered.title", { job: String(job.number) });
  const message: ReplyMessage = {
    content: t(locale, "delivered.ping", { mention: `<@${job.userId}>` }),
    embeds: [jobEmbed(locale, job, title, COLOR.success, lines.join("\n"))],
    pingUserId: job.userId,
    components: videoButtons(job, locale),
  };
  if (view.file) message.files = [view.file];
  return message;
}

/** A link that opens a message in Discord. */
export function messageLink(guildId: string, channelId: string, messageId: string): string {
  return `https://discord.com/channels/${guildId}/${channelId}/${messageId}`;
}

/** The job's reply once its video has its own message: one line that leads there (and no buttons). */
export function pointer(locale: Locale, job: JobSummary, link: string): ReplyMessage {
  return {
    content: t(locale, "delivered.pointer", { job: String(job.number), link }),
    embeds: [],
    components: [],
  };
}

/** A job that ended without a video; its held credits are always returned. */
export function failed(locale: Locale, job: JobSummary, failure: Failure, pingUserId?: string): ReplyMessage {
  const refund = t(locale, "failed.refund", { count: job.estimatedCost });
  const reason = truncate(failureReason(locale, failure), 1000);
  const title = t(locale, "failed.title", { job: String(job.number) });
  const message: ReplyMessage = {
    content: pingUserId ? t(locale, "failed.ping", { mention: `<@${pingUserId}>` }) : "",
    embeds: [jobEmbed(locale, job, title, COLOR.failure, `${reason}\n${refund}`)],
  };
  if (pingUserId) message.pingUserId = pingUserId;
  return message;
}

type VideoUnavailableKey = "reason.VIDEO_UNAVAILABLE.unreachable";

/** Why a video could not be fetched (`why` a `VideoUnavailableWhy`; an expired link says so). */
export function unavailableWhy(locale: Locale, p: { why?: unknown; httpStatus?: unknown }): string {
  const status = Number(p.httpStatus) || 0;
  if (p.why === "http-status") {
    return t(
      locale,
      [403, 404, 410].includes(status)
        ? "reason.VIDEO_UNAVAILABLE.http-status-expired"
        : "reason.VIDEO_UNAVAILABLE.http-status",
      { status: String(status) },
    );
  }
  const sub = `reason.VIDEO_UNAVAILABLE.${String(p.why)}`;
  return t(locale, (hasKey(sub) ? sub : "reason.VIDEO_UNAVAILABLE.unreachable") as VideoUnavailableKey);
}

/** Why a job ended without a video (or could not be posted), from its stored code and parameters. */
export function failureReason(
  locale: Locale,
  failure: { code: string; params?: Record<string, unknown> | null },
): string {
  const p = failure.params ?? {};
  switch (failure.code) {
    case "TIMED_OUT":
      return t(locale, "reason.TIMED_OUT", {
        elapsed: duration(locale, Number(p.waitedMs) || 0),
        limit: duration(locale, Number(p.limitMs) || 0),
      });
    case "TASK_FAILED":
      // The service's own words, quoted as given; without them, what its status says.
      if (typeof p.serviceReason === "string" && p.serviceReason) {
        return t(locale, "reason.TASK_FAILED", { reason: escapeUserText(p.serviceReason, 500) });
      }
      return String(p.status).toUpperCase() === "EXPIRED"
        ? t(locale, "kling.taskExpired")
        : t(locale, "kling.taskReportedAs", { status: escapeUserText(String(p.status ?? "?"), 40) });
    case "VIDEO_UNAVAILABLE":
      return t(locale, "reason.VIDEO_UNAVAILABLE", { why: unavailableWhy(locale, p) });
    case "UNCONFIRMED":
      return t(locale, p.timedOut ? "reason.UNCONFIRMED_TIMEOUT" : "reason.UNCONFIRMED");
    case "DENIED":
      return typeof p.reason === "string" && p.reason
        ? t(locale, "reason.DENIED_WHY", { by: `<@${String(p.by)}>`, reason: escapeUserText(p.reason, 300) })
        : t(locale, "reason.DENIED", { by: `<@${String(p.by)}>` });
    case "CANCELLED":
      return t(locale, "reason.CANCELLED", { by: `<@${String(p.by)}>` });
    default: {
      const own = `reason.${failure.code}`;
      const kling = `kling.${failure.code}`;
      const key = (
        hasKey(own) ? own : hasKey(kling) ? kling : "reason.SUBMIT_ERROR"
      ) as "reason.SUBMIT_ERROR";
      const base = t(locale, key);
      // The service's own words about a refused request, marked as its words.
      return typeof p.serviceMessage === "string" && p.serviceMessage
        ? t(locale, "kling.said", { message: base, reason: escapeUserText(p.serviceMessage, 300) })
        : base;
    }
  }
}

export function errorReference(locale: Locale, ref: string): ReplyMessage {
  return { content: t(locale, "error.reference", { ref }), embeds: [] };
}

export function stateLabel(locale: Locale, state: JobState): string {
  return t(locale, `state.${state}`);
}

/** One job in `/video status` and `/video history`. */
export interface JobLine {
  number: number;
  state: JobState;
  prompt: string;
  cost: number;
  model: string;
  duration: number | undefined;
  /** The message that shows the job: the one that carries its video once posted, else its reply. */
  message: { url: string; carriesVideo: boolean } | undefined;
  /** The API's own link to the video when no message carries the file: until `expiresAt`, or expired. */
  download: { url: string; expiresAt: Date } | "expired" | undefined;
}

/** Three lines: number, state, cost and message; model, length and download link; the prompt. */
function jobLine(locale: Locale, job: JobLine): string {
  const cost = job.state === "failed" ? t(locale, "status.refunded") : credits(locale, job.cost);
  const first = [`**#${job.number}**`, stateLabel(locale, job.state), cost];
  if (job.message) {
    const label = t(locale, job.message.carriesVideo ? "status.videoLink" : "status.replyLink");
    first.push(`[${label}](${job.message.url})`);
  }
  const second = [modelLabel(locale, job.model), durationText(locale, job.duration)];
  if (job.download === "expired") second.push(t(locale, "status.downloadExpired"));
  else if (job.download) {
    const when = `<t:${Math.floor(job.download.expiresAt.getTime() / 1000)}:R>`;
    second.push(t(locale, "status.download", { url: job.download.url, when }));
  }
  return [first.join(" · "), second.join(" · "), escapeUserText(job.prompt, 60)].join("\n");
}

export interface JobStatusView extends JobLine {
  userId: string;
  createdAt: Date;
  failure: { code: string; params: Record<string, unknown> | null } | undefined;
}

export function jobStatus(locale: Locale, job: JobStatusView): ReplyMessage {
  const when = `<t:${Math.floor(job.createdAt.getTime() / 1000)}:R>`;
  const lines = [jobLine(locale, job), t(locale, "status.requestedBy", { user: `<@${job.userId}>`, when })];
  if (job.failure) lines.push(t(locale, "status.reason", { reason: failureReason(locale, job.failure) }));
  return {
    content: "",
    embeds: [
      {
        title: t(locale, "status.title", { job: String(job.number) }),
        description: truncate(lines.join("\n"), 4000),
        color: COLOR.info,
      },
    ],
  };
}

export function noSuchJob(locale: Locale, id: number): ReplyMessage {
  return { content: t(locale, "status.notFound", { job: String(id) }), embeds: [] };
}

export function history(locale: Locale, jobs: readonly JobLine[]): ReplyMessage {
  const description = jobs.length
    ? jobs.map((j) => jobLine(locale, j)).join("\n\n")
    : t(locale, "history.empty");
  return {
    content: "",
    embeds: [
      { title: t(locale, "history.title"), description: truncate(description, 4000), color: COLOR.info },
    ],
  };
}

export function autocompleteChoice(
  locale: Locale,
  job: { number: number; state: JobState; prompt: string },
): string {
  return truncate(`#${job.number} · ${stateLabel(locale, job.state)} · ${job.prompt}`, 100);
}

export interface BudgetView {
  balance: number;
  held: number;
  mineMonth: number;
  mineAll: number;
  mineJobs: number;
  inFlight: readonly { number: number; state: JobState; userId: string }[];
  standing?: Standing;
  nextTopUp?: Date;
}

export function budget(locale: Locale, view: BudgetView): ReplyMessage {
  const flight = view.inFlight.length
    ? view.inFlight.map((j) => `#${j.number} · ${stateLabel(locale, j.state)} · <@${j.userId}>`).join("\n")
    : t(locale, "budget.none");
  const spentAll = t(locale, "budget.spentAllValue", {
    count: view.mineJobs,
    credits: credits(locale, view.mineAll),
  });
  const frozen = view.standing?.frozen;
  return {
    content: frozen
      ? frozen.reason
        ? t(locale, "budget.frozenWhy", { reason: escapeUserText(frozen.reason, 300) })
        : t(locale, "budget.frozen")
      : "",
    embeds: [
      {
        title: t(locale, "budget.title"),
        color: COLOR.info,
        fields: [
          { name: t(locale, "budget.balance"), value: credits(locale, view.balance), inline: true },
          { name: t(locale, "budget.held"), value: credits(locale, view.held), inline: true },
          { name: t(locale, "budget.spentMonth"), value: credits(locale, view.mineMonth), inline: true },
          { name: t(locale, "budget.spentAll"), value: spentAll, inline: true },
          ...standingFields(locale, view),
          {
            name: t(locale, "budget.inFlight", { count: view.inFlight.length }),
            value: truncate(flight, 1024),
          },
        ],
      },
    ],
  };
}

export function unknownComponent(locale: Locale): ReplyMessage {
  return { content: t(locale, "error.componentUnknown"), embeds: [] };
}

/** A plain ephemeral notice (rights, a list change, a decision). */
export function notice(text: string): ReplyMessage {
  return { content: truncate(text, LIMIT.content), embeds: [] };
}

function mentionList(ids: readonly string[], kind: "#" | "@&"): string {
  return ids.map((id) => `<${kind}${id}>`).join(", ");
}

/** A server rule refused the request: which one, and what the member can do. */
export function refused(
  locale: Locale,
  refusal: Refusal,
  settings?: { channels: string[]; roles: string[] },
): ReplyMessage {
  let text: string;
  switch (refusal.rule) {
    case "channel":
      text = t(locale, "rule.channel", { channels: mentionList(settings?.channels ?? [], "#") });
      break;
    case "role":
      text = t(locale, "rule.role", { roles: mentionList(settings?.roles ?? [], "@&") });
      break;
    case "frozen":
      text = refusal.reason
        ? t(locale, "rule.frozenWhy", { reason: escapeUserText(refusal.reason, 300) })
        : t(locale, "rule.frozen");
      break;
    case "blocklist":
      text = t(locale, "rule.blocklist", { phrase: escapeUserText(refusal.phrase, 100) });
      break;
    case "model":
      text = t(locale, "rule.model", {
        model: modelLabel(locale, refusal.model),
        allowed: orList(refusal.allowed.map((m) => modelLabel(locale, m))),
      });
      break;
    case "duration":
      text = t(locale, "rule.duration", { max: refusal.max, duration: refusal.duration });
      break;
    case "sound":
      text = t(locale, "rule.sound");
      break;
    case "member-jobs":
    case "server-jobs":
      text = t(locale, `rule.${refusal.rule}`, { count: refusal.limit });
      break;
    case "daily-cap":
      text = t(locale, "rule.daily-cap", {
        cost: credits(locale, refusal.cost),
        spent: credits(locale, refusal.spent),
        cap: credits(locale, refusal.cap),
      });
      break;
  }
  return {
    content: "",
    embeds: [
      {
        title: t(locale, "rule.title"),
        description: truncate(text, LIMIT.description),
        color: COLOR.failure,
      },
    ],
  };
}

/** The job is held and waits for a manager. */
export function awaitingApproval(locale: Locale, job: JobSummary, _balanceLeft: number): ReplyMessage {
  const title = t(locale, "approval.waitingTitle", { job: String(job.number) });
  const text = t(locale, "approval.waiting", { held: credits(locale, job.estimatedCost) });
  return {
    content: "",
    embeds: [jobEmbed(locale, job, title, COLOR.progress, text)],
    components: cancelButtons(job, locale),
  };
}

/** The request in the moderators' channel, with Approve and Deny (or, once decided, who decided). */
export function approvalRequest(
  locale: Locale,
  job: JobSummary,
  decided?: { kind: "approved" | "denied" | "expired" | "cancelled"; by?: string; reason?: string },
): ReplyMessage {
  const title = t(locale, "approval.requestTitle", { job: String(job.number) });
  const lines = [
    t(locale, "approval.request", {
      user: `<@${job.userId}>`,
      cost: credits(locale, job.estimatedCost),
      model: modelLabel(locale, job.display.model),
    }),
  ];
  if (decided) {
    const by = decided.by ? `<@${decided.by}>` : "";
    lines.push(
      decided.kind === "approved"
        ? t(locale, "approval.approved", { user: by })
        : decided.kind === "denied"
          ? decided.reason
            ? t(locale, "approval.deniedWhy", { user: by, reason: escapeUserText(decided.reason, 300) })
            : t(locale, "approval.denied", { user: by })
          : decided.kind === "cancelled"
            ? t(locale, "approval.cancelled", { user: by })
            : t(locale, "approval.expired"),
    );
  }
  return {
    content: "",
    embeds: [jobEmbed(locale, job, title, decided ? COLOR.info : COLOR.progress, lines.join("\n\n"))],
    components: decided
      ? []
      : [
          {
            type: 1,
            components: [
              {
                type: 2,
                style: 3,
                label: t(locale, "approval.approve"),
                custom_id: formatCustomId("approve", job.id),
              },
              {
                type: 2,
                style: 4,
                label: t(locale, "approval.deny"),
                custom_id: formatCustomId("deny", job.id),
              },
            ],
          },
        ],
  };
}

export interface SettingsView {
  dailyCap: number;
  memberJobs: number;
  serverJobs: number;
  maxDuration?: number | undefined;
  allowSound: boolean;
  allowedModels: readonly string[];
  defaultModel?: string | undefined;
  approvalAbove: number;
  moderatorChannelId?: string | undefined;
  galleryChannelId?: string | undefined;
  managerRoleId?: string | undefined;
  channels: readonly string[];
  roles: readonly string[];
  blocklist: readonly { phrase: string }[];
}

export function settings(locale: Locale, view: SettingsView, saved = false): ReplyMessage {
  const unset = t(locale, "config.unset");
  const field = (key: CatalogueKey, value: string): EmbedField => ({
    name: t(locale, key as "config.dailyCap"),
    value: truncate(value || unset, LIMIT.fieldValue),
    inline: true,
  });
  return {
    content: saved ? t(locale, "config.saved") : "",
    embeds: [
      {
        title: t(locale, "config.title"),
        color: COLOR.info,
        fields: [
          field(
            "config.dailyCap",
            view.dailyCap > 0 ? credits(locale, view.dailyCap) : t(locale, "config.none"),
          ),
          field("config.memberJobs", String(view.memberJobs)),
          field("config.serverJobs", String(view.serverJobs)),
          field(
            "config.maxDuration",
            view.maxDuration
              ? t(locale, "config.seconds", { seconds: view.maxDuration })
              : t(locale, "config.none"),
          ),
          field(
            "config.allowSound",
            t(locale, view.allowSound ? "reply.field.soundOn" : "reply.field.soundOff"),
          ),
          field(
            "config.allowedModels",
            view.allowedModels.length
              ? view.allowedModels.map((m) => modelLabel(locale, m)).join(", ")
              : t(locale, "config.all"),
          ),
          field("config.defaultModel", view.defaultModel ? modelLabel(locale, view.defaultModel) : ""),
          field(
            "config.approvalAbove",
            view.approvalAbove > 0 ? credits(locale, view.approvalAbove) : t(locale, "config.none"),
          ),
          field("config.moderatorChannel", view.moderatorChannelId ? `<#${view.moderatorChannelId}>` : ""),
          field("config.galleryChannel", view.galleryChannelId ? `<#${view.galleryChannelId}>` : ""),
          field("config.managerRole", view.managerRoleId ? `<@&${view.managerRoleId}>` : ""),
          field(
            "config.channels",
            view.channels.length ? mentionList(view.channels, "#") : t(locale, "config.everywhere"),
          ),
          field(
            "config.roles",
            view.roles.length ? mentionList(view.roles, "@&") : t(locale, "config.everyone"),
          ),
          field(
            "config.blocklist",
            view.blocklist.length
              ? view.blocklist.map((b) => `\`${b.phrase.replace(/`/g, "'")}\``).join(", ")
              : t(locale, "list.empty"),
          ),
        ],
      },
    ],
  };
}

/** The member's own standing in `/budget show`: the allowance, today's spending, the cap left, free slots. */
function standingFields(locale: Locale, view: BudgetView): EmbedField[] {
  const st = view.standing;
  if (!st) return [];
  const fields: EmbedField[] = [
    { name: t(locale, "budget.spentToday"), value: credits(locale, st.spentToday), inline: true },
    { name: t(locale, "budget.slots"), value: String(st.slotsFree), inline: true },
  ];
  if (st.capLeft !== undefined) {
    fields.push({ name: t(locale, "budget.capLeft"), value: credits(locale, st.capLeft), inline: true });
  }
  if (st.allowance !== null && view.nextTopUp) {
    fields.push({
      name: t(locale, "budget.allowance"),
      value: t(locale, "budget.allowanceValue", {
        credits: credits(locale, st.allowance),
        next: `<t:${Math.floor(view.nextTopUp.getTime() / 1000)}:D>`,
      }),
      inline: true,
    });
  }
  return fields;
}

/** A Discord timestamp: shown in the reader's time zone and language. */
function when(at: Date, style: "f" | "D" | "R" = "f"): string {
  return `<t:${Math.floor(at.getTime() / 1000)}:${style}>`;
}

/** One row of `/budget usage`: a member's videos of one model in the period. */
export interface UsageRow {
  userId: string;
  /** How the member is shown in the table: their name, or their id when it could not be read. */
  name: string;
  model: string;
  jobs: number;
  credits: number;
}

export interface UsageView {
  period: UsagePeriod;
  since: Date;
  /** In the table's order. */
  rows: readonly UsageRow[];
  /** Credits held right now by the server's jobs in flight (not spent yet). */
  held: number;
  /** Dates the CSV file's name. */
  now: Date;
}

/** At most this many rows in the message; the CSV file has them all. */
const USAGE_ROWS_SHOWN = 30;
/** Columns of a member's name in the table. */
const NAME_COLUMNS = 20;

/**
 * `/budget usage`: the table in a code block (names are plain text there, so nothing can ping), what counts,
 * and the CSV file with one row per member and model.
 */
export function usageReport(locale: Locale, view: UsageView): ReplyMessage {
  const title = t(locale, "usage.title", { period: t(locale, `usage.period.${view.period}`) });
  const notes = [t(locale, "usage.counts")];
  if (view.held > 0) notes.push(t(locale, "usage.held", { credits: credits(locale, view.held) }));
  const since = t(locale, "usage.since", { since: when(view.since) });
  if (view.rows.length === 0) {
    return {
      content: "",
      embeds: [
        {
          title,
          color: COLOR.info,
          description: [since, t(locale, "usage.empty"), ...notes].join("\n\n"),
        },
      ],
    };
  }
  const total = view.rows.reduce(
    (sum, r) => ({ jobs: sum.jobs + r.jobs, credits: sum.credits + r.credits }),
    {
      jobs: 0,
      credits: 0,
    },
  );
  const describe = (shown: number) => {
    const lines = textTable(
      [
        t(locale, "usage.member"),
        t(locale, "usage.model"),
        t(locale, "usage.jobs"),
        t(locale, "usage.credits"),
      ],
      [
        ...view.rows
          .slice(0, shown)
          .map((r) => [
            cell(r.name, NAME_COLUMNS),
            cell(r.model, 12),
            formatNumber(locale, r.jobs),
            formatNumber(locale, r.credits),
          ]),
        [t(locale, "usage.total"), "", formatNumber(locale, total.jobs), formatNumber(locale, total.credits)],
      ],
      [2, 3],
    );
    lines.splice(-1, 0, "-".repeat(Math.max(...lines.map(displayWidth))));
    const more = view.rows.length - shown;
    return [
      since,
      `\`\`\`text\n${lines.join("\n")}\n\`\`\``,
      ...(more > 0 ? [t(locale, "usage.more", { count: more })] : []),
      ...notes,
    ].join("\n");
  };
  let shown = Math.min(view.rows.length, USAGE_ROWS_SHOWN);
  let description = describe(shown);
  while (description.length > LIMIT.description && shown > 1) description = describe(--shown);
  return {
    content: "",
    embeds: [{ title, color: COLOR.info, description, footer: { text: t(locale, "usage.csv") } }],
    files: [
      {
        name: `usage-${view.period}-${view.now.toISOString().slice(0, 10)}.csv`,
        data: usageCsv(view.rows),
        contentType: "text/csv; charset=utf-8",
      },
    ],
  };
}

/** One field of a CSV row (RFC 4180): quoted when it holds a comma, a quote or a line break. */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows of `/budget usage` as CSV, UTF-8: `member_id,model,jobs,credits`, one row per member and model. */
export function usageCsv(rows: readonly UsageRow[]): Buffer {
  const lines = [
    "member_id,model,jobs,credits",
    ...rows.map((r) => [r.userId, r.model, r.jobs, r.credits].map(csvField).join(",")),
  ];
  return Buffer.from(`${lines.join("\r\n")}\r\n`, "utf8");
}

export interface LedgerView {
  guildId: string;
  balance: number;
  lines: readonly LedgerLine[];
  /** The `after` of the newer page, the `before` of the older one; undefined where there is none. */
  previous: number | undefined;
  next: number | undefined;
}

const ACTORS: Readonly<Record<string, CatalogueKey>> = {
  cli: "ledger.actor.cli",
  allowance: "ledger.actor.allowance",
  system: "ledger.actor.system",
};

/** Who moved credits: an operator (a mention, which pings nobody), or one of the bot's own actors. */
function actorName(locale: Locale, actorId: string): string {
  if (/^\d{17,20}$/.test(actorId)) return `<@${actorId}>`;
  const key = ACTORS[actorId] as "ledger.actor.cli" | undefined;
  return key ? t(locale, key) : escapeUserText(actorId, 40);
}

function ledgerLine(locale: Locale, l: LedgerLine): string {
  const sign = l.credits > 0 ? "+" : l.credits < 0 ? "−" : "";
  const parts = [
    when(l.at),
    `**${sign}${credits(locale, Math.abs(l.credits))}**`,
    `${l.flagged ? "⚠️ " : ""}${t(locale, `ledger.kind.${l.kind}`)}`,
  ];
  if (l.actorId) parts.push(t(locale, "ledger.by", { actor: actorName(locale, l.actorId) }));
  if (l.userId) parts.push(`<@${l.userId}>`);
  if (l.jobId !== null) parts.push(t(locale, "ledger.job", { job: String(l.jobId) }));
  if (l.reason) parts.push(`“${escapeUserText(l.reason, 120)}”`);
  return parts.join(" · ");
}

/** `/budget ledger`: one page of the server's ledger, newest first, with Previous and Next. */
export function ledger(locale: Locale, view: LedgerView): ReplyMessage {
  const head = t(locale, "ledger.balance", { balance: credits(locale, view.balance) });
  const body = view.lines.length
    ? view.lines.map((l) => ledgerLine(locale, l)).join("\n")
    : t(locale, "ledger.empty");
  const first = view.lines[0];
  const last = view.lines.at(-1);
  return {
    content: "",
    embeds: [
      {
        title: t(locale, "ledger.title"),
        color: COLOR.info,
        description: truncate(`${head}\n\n${body}`, LIMIT.description),
        ...(first && last
          ? {
              footer: {
                text: t(locale, "ledger.footer", { newest: String(first.id), oldest: String(last.id) }),
              },
            }
          : {}),
      },
    ],
    components: [
      {
        type: 1,
        components: [
          {
            type: 2,
            style: 2,
            label: t(locale, "ledger.previous"),
            custom_id: formatCustomId("ledger-newer", view.guildId, view.previous ?? 0),
            disabled: view.previous === undefined,
          },
          {
            type: 2,
            style: 2,
            label: t(locale, "ledger.next"),
            custom_id: formatCustomId("ledger-older", view.guildId, view.next ?? 0),
            disabled: view.next === undefined,
          },
        ],
      },
    ],
  };
}
type Button = ButtonRow["components"][number];

const button = (style: Button["style"], label: string, customId: string): Button => ({
  type: 2,
  style,
  label: truncate(label, 80),
  custom_id: customId,
});

/**
 * What a member can do with a finished video, under the message that carries it: make it again, edit it,
 * continue it from its last frame, use it as a reference, or (its requester) share it in the gallery channel.
 * Each button names only the job; its handler checks the clicker and the video on every click.
 */
export function videoButtons(job: Pick<JobSummary, "id">, locale: Locale): ButtonRow[] {
  return [
    {
      type: 1,
      components: [
        button(1, t(locale, "clip.button.reroll"), formatCustomId("reroll", job.id)),
        button(2, t(locale, "clip.button.edit"), formatCustomId("edit", job.id)),
        button(2, t(locale, "clip.button.continue"), formatCustomId("continue", job.id)),
        button(2, t(locale, "clip.button.reference"), formatCustomId("reference", job.id)),
        button(3, t(locale, "clip.button.share"), formatCustomId("share", job.id)),
      ],
    },
  ];
}

/** Cancel, on the reply of a job that waits to be sent (queued or waiting for approval). */
export function cancelButtons(job: Pick<JobSummary, "id">, locale: Locale): ButtonRow[] {
  return [
    { type: 1, components: [button(4, t(locale, "job.button.cancel"), formatCustomId("cancel", job.id))] },
  ];
}

/** A modal (Discord's JSON): text inputs in action rows; labels and the title within Discord's 45 characters. */
export interface Modal {
  title: string;
  custom_id: string;
  components: {
    type: 1;
    components: [
      {
        type: 4;
        custom_id: string;
        label: string;
        style: 1 | 2;
        required: boolean;
        min_length?: number;
        max_length?: number;
        value?: string;
        placeholder?: string;
      },
    ];
  }[];
}

type TextInput = Modal["components"][number]["components"][0];

function modal(title: string, customId: string, inputs: Omit<TextInput, "type">[]): Modal {
  return {
    title: truncate(title, 45),
    custom_id: customId,
    components: inputs.map((input) => ({
      type: 1,
      components: [{ type: 4, ...input, label: truncate(input.label, 45) }],
    })),
  };
}

/** The prompt of a new video, as `/video`'s `prompt` option takes it. */
const promptInput = (label: string): Omit<TextInput, "type"> => ({
  custom_id: "prompt",
  label,
  style: 2,
  required: true,
  min_length: 1,
  max_length: 2000,
});

/** "Edit": what to change, and the O3 quality (with both prices in the title). */
export function editModal(locale: Locale, jobId: number, prices: { std: number; pro: number }): Modal {
  return modal(t(locale, "clip.edit.title", prices), formatCustomId("edit", jobId), [
    promptInput(t(locale, "clip.edit.prompt")),
    {
      custom_id: "quality",
      label: t(locale, "clip.edit.quality"),
      style: 1,
      required: false,
      max_length: 10,
      value: "std",
    },
  ]);
}

/** "Continue": what happens next (the cost of the continuation in the title). */
export function continueModal(locale: Locale, jobId: number, cost: number): Modal {
  return modal(
    t(locale, "clip.continue.title", { cost: credits(locale, cost) }),
    formatCustomId("continue", jobId),
    [promptInput(t(locale, "clip.continue.prompt"))],
  );
}

/** "Use as reference": what the new video should show (its cost in the title). */
export function referenceModal(locale: Locale, jobId: number, cost: number): Modal {
  return modal(
    t(locale, "clip.reference.title", { cost: credits(locale, cost) }),
    formatCustomId("reference", jobId),
    [promptInput(t(locale, "clip.reference.prompt"))],
  );
}

/**
 * "Animate with Kling": the prompt, the duration and the model, filled in with the server's defaults, whose
 * cost the title states. The message id rides in the `custom_id`: the submit reads the image again from it.
 */
export function animateModal(
  locale: Locale,
  messageId: string,
  defaults: { model: Model; duration: number; cost: number },
): Modal {
  return modal(
    t(locale, "animate.title", { cost: credits(locale, defaults.cost) }),
    formatCustomId("animate", messageId),
    [
      promptInput(t(locale, "animate.prompt")),
      {
        custom_id: "duration",
        label: t(locale, "animate.duration"),
        style: 1,
        required: false,
        max_length: 10,
        value: String(defaults.duration),
        placeholder: t(locale, "animate.durationHint", { min: 3, max: 15 }),
      },
      {
        custom_id: "model",
        label: t(locale, "animate.model"),
        style: 1,
        required: false,
        max_length: 20,
        value: defaults.model,
        placeholder: t(locale, "animate.modelHint"),
      },
    ],
  );
}

/** The clip's last frame, posted so that the video service can fetch it by its Discord link. */
export function framePost(locale: Locale, userId: string, png: Buffer): ReplyMessage {
  return {
    content: t(locale, "clip.frame", { user: `<@${userId}>` }),
    embeds: [],
    files: [{ name: "last-frame.png", data: png, contentType: "image/png" }],
  };
}

/** A video its requester shared, in the server's gallery channel: the prompt (escaped), who made it, a link back. */
export function galleryPost(
  locale: Locale,
  job: JobSummary,
  video: { file: ReplyFile } | { url: string; limitMiB: number },
  original: string | undefined,
): ReplyMessage {
  const lines = original ? [t(locale, "share.original", { link: original })] : [];
  if ("url" in video) {
    const why = t(locale, "delivered.why.tooLarge", { mib: video.limitMiB });
    lines.push(t(locale, "delivered.link", { url: video.url, why }));
  }
  const message: ReplyMessage = {
    content: "",
    embeds: [jobEmbed(locale, job, t(locale, "share.title"), COLOR.success, lines.join("\n"))],
  };
  if ("file" in video) message.files = [video.file];
  return message;
}
