import { createHash, randomBytes } from "node:crypto";

/**
 * Pieces of Discord's wire protocol shared by the fake's REST routes and gateway: error bodies with
 * Discord's JSON error codes, snowflakes, permission bits and CDN-looking URLs.
 */

/** An answer Discord gives instead of doing what was asked. Thrown by route handlers. */
export interface DiscordErrorBody {
  message: string;
  code?: number;
  errors?: unknown;
  retry_after?: number;
  global?: boolean;
}

export class DiscordHttpError extends Error {
  readonly status: number;
  readonly body: DiscordErrorBody;
  readonly headers: Record<string, string>;

  constructor(status: number, body: DiscordErrorBody, headers: Record<string, string> = {}) {
    super(`${status} ${body.message} (${body.code ?? "no code"})`);
    this.name = "DiscordHttpError";
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** Messages Discord sends with these JSON error codes (discord-api-docs, "JSON Error Codes"). */
export const ERROR_MESSAGES: Readonly<Record<number, string>> = {
  0: "General error",
  10003: "Unknown Channel",
  10004: "Unknown Guild",
  10008: "Unknown Message",
  10013: "Unknown User",
  10015: "Unknown Webhook",
  10062: "Unknown interaction",
  10063: "Unknown application command",
  40005: "Request entity too large",
  40060: "Interaction has already been acknowledged.",
  50001: "Missing Access",
  50005: "Cannot edit a message authored by another user",
  50006: "Cannot send an empty message",
  50013: "Missing Permissions",
  50027: "Invalid Webhook Token",
  50035: "Invalid Form Body",
  50109: "The request body contains invalid JSON.",
};

/** Discord's generic answers carry the status line as message and code 0. */
const STATUS_MESSAGES: Readonly<Record<number, string>> = {
  400: "400: Bad Request",
  401: "401: Unauthorized",
  403: "403: Forbidden",
  404: "404: Not Found",
  405: "405: Method Not Allowed",
  500: "500: Internal Server Error",
  502: "502: Bad Gateway",
  503: "503: Service Unavailable",
};

export function apiError(status: number, code: number, message?: string): DiscordHttpError {
  return new DiscordHttpError(status, { message: message ?? ERROR_MESSAGES[code] ?? "Unknown error", code });
}

export function statusError(status: number): DiscordHttpError {
  return new DiscordHttpError(status, { message: STATUS_MESSAGES[status] ?? `${status}: Error`, code: 0 });
}

export const errors = {
  unauthorized: () => statusError(401),
  notFound: () => statusError(404),
  methodNotAllowed: () => statusError(405),
  invalidJson: () => apiError(400, 50109),
  unknownChannel: () => apiError(404, 10003),
  unknownGuild: () => apiError(404, 10004),
  unknownMessage: () => apiError(404, 10008),
  unknownUser: () => apiError(404, 10013),
  unknownWebhook: () => apiError(404, 10015),
  unknownInteraction: () => apiError(404, 10062),
  unknownCommand: () => apiError(404, 10063),
  tooLarge: () => apiError(413, 40005),
  alreadyAcknowledged: () => apiError(400, 40060),
  missingAccess: () => apiError(403, 50001),
  notAuthor: () => apiError(403, 50005),
  emptyMessage: () => apiError(400, 50006),
  missingPermissions: () => apiError(403, 50013),
  invalidWebhookToken: () => apiError(401, 50027),
};

/** Default answer for an injected fault of this status when the test names no code. */
export function defaultFault(status: number, code?: number, message?: string): DiscordHttpError {
  if (code !== undefined) return apiError(status, code, message);
  if (status === 403) return apiError(403, 50013, message);
  if (message !== undefined) return new DiscordHttpError(status, { message, code: 0 });
  return statusError(status);
}

export interface FieldError {
  /** Where in the body, e.g. `["embeds", 0, "description"]`. */
  path: (string | number)[];
  code: string;
  message: string;
}

/** 400 50035 with Discord's nested `errors` object: `{ embeds: { 0: { title: { _errors: [...] } } } }`. */
export function invalidFormBody(fieldErrors: FieldError[]): DiscordHttpError {
  const tree: Record<string, unknown> = {};
  for (const e of fieldErrors) {
    let node = tree;
    for (const key of e.path) {
      const k = String(key);
      node[k] ??= {};
      node = node[k] as Record<string, unknown>;
    }
    node._errors ??= [];
    (node._errors as { code: string; message: string }[]).push({ code: e.code, message: e.message });
  }
  return new DiscordHttpError(400, { message: "Invalid Form Body", code: 50035, errors: tree });
}

export const DISCORD_EPOCH = 1_420_070_400_000n;

/**
 * Snowflakes carry their creation time: discord.js derives `interaction.createdTimestamp` from the id,
 * and the bot computes the token's 15 minutes from it, so ids must follow the fake's clock.
 */
export class Snowflakes {
  private last = 0n;
  private readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  next(): string {
    const ms = BigInt(Math.floor(this.now()));
    let id = ((ms - DISCORD_EPOCH) << 22n) | (1n << 17n);
    if (id <= this.last) id = this.last + 1n;
    this.last = id;
    return id.toString();
  }
}

export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

/** Permission bits (discord-api-docs, "Permissions"). */
export const Permission = {
  CreateInstantInvite: 1n << 0n,
  Administrator: 1n << 3n,
  ManageChannels: 1n << 4n,
  ManageGuild: 1n << 5n,
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  MentionEveryone: 1n << 17n,
  UseExternalEmojis: 1n << 18n,
  Connect: 1n << 20n,
  Speak: 1n << 21n,
  ChangeNickname: 1n << 26n,
  UseApplicationCommands: 1n << 31n,
  CreatePublicThreads: 1n << 35n,
  SendMessagesInThreads: 1n << 38n,
} as const;

const P = Permission;
/** What a freshly invited bot with the usual "send messages with files" invite gets. */
export const DEFAULT_BOT_PERMISSIONS = (
  P.ViewChannel |
  P.SendMessages |
  P.SendMessagesInThreads |
  P.EmbedLinks |
  P.AttachFiles |
  P.ReadMessageHistory |
  P.AddReactions |
  P.UseExternalEmojis |
  P.UseApplicationCommands
).toString();
/** A modest @everyone role, close to what Discord gives a new server. */
export const DEFAULT_EVERYONE_PERMISSIONS = (
  P.CreateInstantInvite |
  P.ViewChannel |
  P.SendMessages |
  P.SendMessagesInThreads |
  P.CreatePublicThreads |
  P.EmbedLinks |
  P.AttachFiles |
  P.ReadMessageHistory |
  P.AddReactions |
  P.UseExternalEmojis |
  P.Connect |
  P.Speak |
  P.ChangeNickname |
  P.UseApplicationCommands
).toString();

export const MessageFlag = {
  SuppressEmbeds: 1 << 2,
  Ephemeral: 1 << 6,
  Loading: 1 << 7,
  SuppressNotifications: 1 << 12,
  IsVoiceMessage: 1 << 13,
  IsComponentsV2: 1 << 15,
} as const;

/** A bot token shaped like Discord's: base64 user id, timestamp part, HMAC part. */
export function makeBotToken(botUserId: string): string {
  const id = Buffer.from(botUserId).toString("base64url");
  const ts = randomBytes(4).toString("base64url");
  const hmac = randomBytes(28).toString("base64url");
  return `${id}.${ts}.${hmac}`;
}

/** Interaction tokens are long opaque strings starting with "aW50ZXJhY3Rpb246" ("interaction:"). */
export function makeInteractionToken(interactionId: string): string {
  const head = Buffer.from(`interaction:${interactionId}:`).toString("base64url");
  return `${head}${randomBytes(96).toString("base64url")}`;
}

/** Signed CDN query string: `ex` (expiry, hex seconds), `is` (issued), `hm` (signature). */
function cdnSignature(now: number, path: string): string {
  const issued = Math.floor(now / 1000);
  const ex = (issued + 24 * 3600).toString(16);
  const is = issued.toString(16);
  const hm = createHash("sha256").update(`${path}:${issued}`).digest("hex");
  return `ex=${ex}&is=${is}&hm=${hm}&`;
}

export function cdnUrls(now: number, folder: string, ...parts: string[]): { url: string; proxy_url: string } {
  const path = `/${folder}/${parts.map(encodeURIComponent).join("/")}`;
  const query = cdnSignature(now, path);
  return {
    url: `https://cdn.discordapp.com${path}?${query}`,
    proxy_url: `https://media.discordapp.net${path}?${query}`,
  };
}

export function bucketHash(key: string): string {
  return createHash("sha1").update(key).digest("hex").slice(0, 32);
}
