import pino, { type Logger } from "pino";

export type { Logger } from "pino";

// Interaction tokens travel inside webhook and callback URLs; they are as good as a password for 15 minutes.
const TOKEN_IN_URL = /(\/(?:webhooks|interactions)\/\d+\/)[A-Za-z0-9_.-]{20,}/g;
// Discord bot tokens: three base64url parts separated by dots.
const BOT_TOKEN = /[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}/g;
const BEARER = /(Bearer\s+)[^\s"',]+/gi;
// An interaction token on its own (e.g. in a failed query's parameters) is base64 of "interaction:…".
const INTERACTION_TOKEN = /aW50ZXJhY3Rpb246[A-Za-z0-9_.-]+/g;
// drizzle puts a failed query's parameters in its error message; they can hold tokens.
const QUERY_PARAMS = /(\nparams: ).*/gs;

const REDACTED = "[redacted]";
const MAX_ARRAY_ITEMS = 50;

/** Keys whose values are always secret, wherever they appear in a log record. */
const SECRET_KEYS = new Set([
  "token",
  "discordtoken",
  "apikey",
  "klingapikey",
  "authorization",
  "interactiontoken",
  "interaction_token",
  "password",
  "params",
  // discord.js errors carry the whole request (files included): never useful in a log line.
  "requestbody",
]);

/** Replace every known secret and every token-shaped substring in a string. */
export function scrubString(value: string, secrets: readonly string[] = []): string {
  let out = value;
  for (const secret of secrets) {
    if (secret.length >= 8) out = out.split(secret).join(REDACTED);
  }
  return out
    .replace(QUERY_PARAMS, `$1${REDACTED}`)
    .replace(TOKEN_IN_URL, `$1${REDACTED}`)
    .replace(INTERACTION_TOKEN, REDACTED)
    .replace(BOT_TOKEN, REDACTED)
    .replace(BEARER, `$1${REDACTED}`);
}

/** Deep copy of a log payload with secrets removed; errors become plain objects with scrubbed text. */
export function scrub(value: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (typeof value === "string") return scrubString(value, secrets);
  if (value === null || typeof value !== "object" || depth > 8) return value;
  // A video in a failed upload's request must not be walked byte by byte into the log.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (value instanceof Error) {
    const out: Record<string, unknown> = {
      type: value.name,
      message: scrubString(value.message, secrets),
      stack: value.stack ? scrubString(value.stack, secrets) : undefined,
    };
    for (const [k, v] of Object.entries(value)) out[k] = scrubEntry(k, v, secrets, depth);
    if (value.cause !== undefined) out.cause = scrub(value.cause, secrets, depth + 1);
    return out;
  }
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ARRAY_ITEMS).map((v) => scrub(v, secrets, depth + 1));
    if (value.length > MAX_ARRAY_ITEMS) items.push(`[${value.length - MAX_ARRAY_ITEMS} more]`);
    return items;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubEntry(k, v, secrets, depth);
  return out;
}

function scrubEntry(key: string, value: unknown, secrets: readonly string[], depth: number): unknown {
  if (SECRET_KEYS.has(key.toLowerCase()) && value !== undefined && value !== null) return REDACTED;
  return scrub(value, secrets, depth + 1);
}

export interface LoggerOptions {
  level?: string;
  pretty?: boolean;
  /** Exact secret values (bot token, API key) to remove from every record. */
  secrets?: readonly (string | undefined)[];
  /** Where records go; defaults to stdout. Tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

/**
 * JSON logs (pretty in a terminal). Redaction happens inside the logger, so a careless
 * `log.info({ err })` cannot leak a token: every object and message is scrubbed before it is written.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => Boolean(s));
  const pinoOptions: pino.LoggerOptions = {
    level: options.level ?? "info",
    base: { service: "kling-discord-bot" },
    serializers: {},
    formatters: {
      bindings: (bindings) => scrub(bindings, secrets) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        // Scrubbed before pino sees them: pino derives `msg` from an error's message on its own.
        const cleaned = args.map((a) => scrub(a, secrets));
        return method.apply(this, cleaned as Parameters<typeof method>);
      },
    },
  };
  if (options.destination) return pino(pinoOptions, options.destination);
  if (options.pretty) {
    return pino({
      ...pinoOptions,
      transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } },
    });
  }
  return pino(pinoOptions);
}

/** A logger that writes nothing, for tests and tools that do not want output. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
