import { escapeMarkdown } from "discord.js";
import { MODEL_LABELS, type Model } from "../video/limits.js";

/**
 * Every reply the bot sends is built here: plain data, no pings, truncated to Discord's limits.
 * The sender (replies.ts) adds `allowed_mentions` that parse nothing, naming the requester only
 * where `pingUserId` is set.
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
export interface ReplyMessage {
  content: string;
  embeds: Embed[];
  files?: ReplyFile[];
  /** The only user this message may ping. */
  pingUserId?: string;
}

const COLOR = { info: 0x5865f2, progress: 0xfaa61a, success: 0x3ba55d, failure: 0xed4245 } as const;

const LIMIT = { content: 2000, title: 256, description: 4096, fieldValue: 1024, footer: 2048 } as const;

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

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

export function progressBar(fraction: number, width = 12): string {
  const f = Math.min(Math.max(fraction, 0), 1);
  const filled = Math.round(f * width);
  return `${"▰".repeat(filled)}${"▱".repeat(width - filled)} ${Math.floor(f * 100)}%`;
}

const credits = (n: number) => `${n.toLocaleString("en-US")} credit${n === 1 ? "" : "s"}`;

/** What the replies need to know of a job. */
export interface JobSummary {
  id: number;
  userId: string;
  display: {
    subcommand: string;
    model: string;
    prompt: string;
    duration?: number | undefined;
    aspectRatio?: string | undefined;
    sound?: boolean | undefined;
  };
  estimatedCost: number;
}

function describe(job: JobSummary): EmbedField[] {
  const d = job.display;
  const fields: EmbedField[] = [
    { name: "Model", value: MODEL_LABELS[d.model as Model] ?? d.model, inline: true },
    { name: "Duration", value: d.duration ? `${d.duration} s` : "same as source", inline: true },
  ];
  if (d.aspectRatio) fields.push({ name: "Aspect ratio", value: d.aspectRatio, inline: true });
  if (d.sound !== undefined) fields.push({ name: "Sound", value: d.sound ? "on" : "off", inline: true });
  fields.push({ name: "Requested by", value: `<@${job.userId}>`, inline: true });
  return fields;
}

function promptDescription(job: JobSummary, extra = ""): string {
  const tail = truncate(extra, 2000);
  const room = LIMIT.description - tail.length - 8;
  return `${escapeUserText(job.display.prompt, Math.min(room, 1500))}${tail ? `\n\n${tail}` : ""}`;
}

export function invalidInput(problems: readonly string[]): ReplyMessage {
  const lines = problems.slice(0, 15).map((p) => `• ${p}`);
  return {
    content: truncate(
      `I can't make this video yet:\n${lines.join("\n")}\n\nNothing was charged.`,
      LIMIT.content,
    ),
    embeds: [],
  };
}

export function guildOnly(): ReplyMessage {
  return { content: "I work in servers: use this command in a server channel.", embeds: [] };
}

export function insufficientBudget(cost: number, balance: number): ReplyMessage {
  return {
    content: "",
    embeds: [
      {
        title: "Not enough server credits",
        color: COLOR.failure,
        description: `This video costs **${credits(cost)}**; the server has **${credits(balance)}** (${credits(cost - balance)} short).\nNothing was charged. Try a shorter or cheaper video, or ask the bot's operator for more credits.`,
      },
    ],
  };
}

export function queued(job: JobSummary, balanceLeft: number, warnings: readonly string[] = []): ReplyMessage {
  const extra = [
    `Queued — **${credits(job.estimatedCost)}** held; the server has ${credits(balanceLeft)} left.`,
  ];
  for (const w of warnings) extra.push(`⚠️ ${w}`);
  return {
    content: "",
    embeds: [
      {
        title: `Video #${job.id} — queued`,
        color: COLOR.info,
        description: promptDescription(job, extra.join("\n")),
        fields: describe(job),
      },
    ],
  };
}

export interface ProgressView {
  elapsedMs: number;
  /** Estimated total time from recent jobs of this type, when known. */
  estimateMs: number | undefined;
  stateLabel: string;
}

/** Rounded so that an edit happens only when something a reader would notice changed. */
export function progress(job: JobSummary, view: ProgressView): ReplyMessage {
  const elapsed = Math.floor(view.elapsedMs / 10_000) * 10_000;
  let line = `${view.stateLabel} — ${formatDuration(elapsed)} elapsed`;
  if (view.estimateMs && view.estimateMs > 0) {
    const fraction = Math.min(view.elapsedMs / view.estimateMs, 0.95);
    const left = Math.max(view.estimateMs - view.elapsedMs, 0);
    const leftText =
      left > 0 ? `about ${formatDuration(Math.ceil(left / 10_000) * 10_000)} left` : "almost done";
    line = `${progressBar(Math.floor(fraction * 20) / 20)}\n${line}, ${leftText}`;
  }
  return {
    content: "",
    embeds: [
      {
        title: `Video #${job.id} — ${view.stateLabel.toLowerCase()}`,
        color: COLOR.progress,
        description: promptDescription(job, line),
        fields: describe(job),
      },
    ],
  };
}

export interface DeliveredView {
  charged: number;
  tookMs: number;
  file?: ReplyFile;
  /** Set when the video is linked rather than attached, with the reason. */
  link?: { url: string; why: string };
  pingUserId?: string;
}

export function delivered(job: JobSummary, view: DeliveredView): ReplyMessage {
  const lines = [`Done in ${formatDuration(view.tookMs)} — **${credits(view.charged)}** charged.`];
  if (view.link) lines.push(`[Download the video](${view.link.url}) (${view.link.why}; the link expires).`);
  const message: ReplyMessage = {
    content: view.pingUserId ? `<@${view.pingUserId}> your video is ready.` : "",
    embeds: [
      {
        title: `Video #${job.id}`,
        color: COLOR.success,
        description: promptDescription(job, lines.join("\n")),
        fields: describe(job),
      },
    ],
  };
  if (view.file) message.files = [view.file];
  if (view.pingUserId) message.pingUserId = view.pingUserId;
  return message;
}

/** A job that ended without a video; its held credits are always returned. */
export function failed(job: JobSummary, reason: string, pingUserId?: string): ReplyMessage {
  const refund = `Your ${credits(job.estimatedCost)} were returned to the server's budget.`;
  const message: ReplyMessage = {
    content: pingUserId ? `<@${pingUserId}> your video could not be made.` : "",
    embeds: [
      {
        title: `Video #${job.id} — failed`,
        color: COLOR.failure,
        description: promptDescription(
          job,
          `${truncate(escapeUserText(reason, 1000), 1000)}\n${refund}`.trim(),
        ),
        fields: describe(job),
      },
    ],
  };
  if (pingUserId) message.pingUserId = pingUserId;
  return message;
}

export function errorReference(ref: string): ReplyMessage {
  return {
    content: `Something went wrong on my side (reference \`${ref}\`). Nothing was charged for it; please try again.`,
    embeds: [],
  };
}

export { COLOR, credits, LIMIT };
