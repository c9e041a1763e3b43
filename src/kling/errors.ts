/**
 * Typed errors of the Kling client: one class per family, a machine-readable `code` (the bot's replies render
 * it in the member's language: `kling.*` in src/i18n), the server's own words (`serverMessage`, secrets
 * removed), and the two answers a caller needs: may I try again (`retryable`), and may the task exist anyway
 * (`maybeSubmitted`, meaningful for generate calls).
 */

/** The API's documented codes, then the client's own. */
export const API_ERROR_CODES = [
  "INVALID_PROMPT",
  "INVALID_DURATION",
  "INVALID_TYPE",
  "MISSING_IMAGE",
  "MISSING_VIDEO",
  "INVALID_API_KEY",
  "INSUFFICIENT_CREDITS",
  "RATE_LIMITED",
  "INTERNAL_ERROR",
] as const;

export const KLING_ERROR_CODES = [
  ...API_ERROR_CODES,
  "INVALID_REQUEST",
  "TIMEOUT",
  "NETWORK_ERROR",
  "BAD_RESPONSE",
  "UNKNOWN_ERROR",
] as const;
export type KlingErrorCode = (typeof KLING_ERROR_CODES)[number];

export function isKlingErrorCode(value: unknown): value is KlingErrorCode {
  return typeof value === "string" && (KLING_ERROR_CODES as readonly string[]).includes(value);
}

export interface KlingErrorOptions {
  code: KlingErrorCode;
  message: string;
  httpStatus?: number;
  retryable?: boolean;
  retryAfterMs?: number;
  maybeSubmitted?: boolean;
  /** The code string the server sent, verbatim (may be one the client does not know). */
  serverCode?: string;
  /** The server's own words, with secrets removed and length capped. */
  serverMessage?: string;
  cause?: unknown;
}

export class KlingError extends Error {
  readonly code: KlingErrorCode;
  readonly httpStatus: number | undefined;
  /**
   * Whether the same call may be made again later. Never true for a generate call that may have reached the
   * server: sending it again could create (and charge for) a second task.
   */
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  /** For generate: true when the request may have reached the server, so a task may exist and cost credits. */
  readonly maybeSubmitted: boolean;
  readonly serverCode: string | undefined;
  readonly serverMessage: string | undefined;

  constructor(options: KlingErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.httpStatus = options.httpStatus;
    this.maybeSubmitted = options.maybeSubmitted ?? false;
    this.retryable = (options.retryable ?? false) && !this.maybeSubmitted;
    this.retryAfterMs = options.retryAfterMs;
    this.serverCode = options.serverCode;
    this.serverMessage = options.serverMessage;
  }

  /** Plain fields for a log record (the message is already free of secrets). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      httpStatus: this.httpStatus,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      maybeSubmitted: this.maybeSubmitted,
      serverCode: this.serverCode,
    };
  }
}

/** 400-family answers and local validation: the request itself must change. */
export class KlingRequestError extends KlingError {
  /** For local validation: every problem found, in words a user can act on. */
  readonly problems: readonly string[];

  constructor(
    options: Omit<KlingErrorOptions, "retryable" | "maybeSubmitted"> & { problems?: readonly string[] },
  ) {
    super({ ...options, retryable: false, maybeSubmitted: false });
    this.problems = options.problems ?? [];
  }

  static invalid(problems: readonly string[]): KlingRequestError {
    return new KlingRequestError({
      code: "INVALID_REQUEST",
      message: `Invalid Kling request:\n${problems.map((p) => `- ${p}`).join("\n")}`,
      problems,
    });
  }
}

/** 401/403: the operator must fix the API key. */
export class KlingAuthError extends KlingError {
  constructor(options: Omit<KlingErrorOptions, "code" | "retryable" | "maybeSubmitted">) {
    super({ ...options, code: "INVALID_API_KEY", retryable: false, maybeSubmitted: false });
  }
}

/** 402: the API account (not the guild) is out of credits. */
export class KlingInsufficientCreditsError extends KlingError {
  constructor(options: Omit<KlingErrorOptions, "code" | "retryable" | "maybeSubmitted">) {
    super({ ...options, code: "INSUFFICIENT_CREDITS", retryable: false, maybeSubmitted: false });
  }
}

/** 429: the server refused the call before doing anything; safe to repeat after `retryAfterMs`. */
export class KlingRateLimitError extends KlingError {
  constructor(options: Omit<KlingErrorOptions, "code" | "retryable" | "maybeSubmitted">) {
    super({ ...options, code: "RATE_LIMITED", retryable: true, maybeSubmitted: false });
  }
}

/** 5xx: for a generate call the task may have been created anyway. */
export class KlingServerError extends KlingError {
  constructor(options: Omit<KlingErrorOptions, "code" | "retryable"> & { code?: KlingErrorCode }) {
    super({ ...options, code: options.code ?? "INTERNAL_ERROR", retryable: true });
  }
}

export class KlingTimeoutError extends KlingError {
  constructor(options: Omit<KlingErrorOptions, "code" | "retryable">) {
    super({ ...options, code: "TIMEOUT", retryable: true });
  }
}

export class KlingNetworkError extends KlingError {
  constructor(options: Omit<KlingErrorOptions, "code" | "retryable">) {
    super({ ...options, code: "NETWORK_ERROR", retryable: true });
  }
}

/** A body that is not what the contract describes (not JSON, no task id, a success without a video URL). */
export class KlingResponseError extends KlingError {
  constructor(options: Omit<KlingErrorOptions, "code" | "retryable">) {
    super({ ...options, code: "BAD_RESPONSE", retryable: false });
  }
}

/**
 * The caller aborted the call through its AbortSignal (e.g. shutdown). Its code is UNKNOWN_ERROR because it is
 * no failure of Kling's; `maybeSubmitted` still says whether a generate request had been sent.
 */
export class KlingCancelledError extends KlingError {
  readonly cancelled = true;
  constructor(options: Omit<KlingErrorOptions, "code" | "retryable">) {
    super({ ...options, code: "UNKNOWN_ERROR", retryable: false });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading error bodies. The seed does not show them, so accept every shape seen in the wild and never fail here.

const MAX_SERVER_TEXT = 300;
const CODE_TOKEN = /^[A-Z][A-Z0-9_]{2,63}$/;
const CODE_PREFIX = /^([A-Z][A-Z0-9_]{2,63})\s*[:\-—]\s*(.*)$/s;
const KNOWN_CODE_ANYWHERE = new RegExp(`\\b(${API_ERROR_CODES.join("|")})\\b`);

export interface ErrorBodyInfo {
  /** An UPPER_SNAKE code from the body, verbatim. */
  code?: string;
  /** A numeric code from the body (some gateways repeat the HTTP status in `code`). */
  numericCode?: number;
  message?: string;
}

/** Remove the secrets, collapse whitespace, cap the length. */
export function cleanServerText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join("[redacted]");
  out = out
    .replace(/(Bearer\s+)[^\s"',]+/gi, "$1[redacted]")
    .replace(/\s+/g, " ")
    .trim();
  return out.length > MAX_SERVER_TEXT ? `${out.slice(0, MAX_SERVER_TEXT - 1)}…` : out;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function fromObject(obj: Record<string, unknown>, info: ErrorBodyInfo): void {
  const take = (value: unknown) => {
    const s = str(value);
    if (s === undefined) return;
    if (!info.code && CODE_TOKEN.test(s)) {
      info.code = s;
      return;
    }
    const prefixed = CODE_PREFIX.exec(s);
    if (prefixed && !info.code) {
      info.code = prefixed[1];
      info.message ??= str(prefixed[2]);
      return;
    }
    info.message ??= s;
  };
  const error = obj.error;
  if (error && typeof error === "object" && !Array.isArray(error)) {
    fromObject(error as Record<string, unknown>, info);
  } else {
    take(error);
  }
  for (const key of ["code", "error_code", "errorCode", "status"]) {
    const value = obj[key];
    if (typeof value === "number" && Number.isFinite(value)) info.numericCode ??= value;
    else if (typeof value === "string" && /^\d{3}$/.test(value)) info.numericCode ??= Number(value);
    else if (key !== "status" && !info.code && CODE_TOKEN.test(str(value) ?? "")) info.code = str(value);
  }
  for (const key of ["message", "msg", "detail", "error_message", "error_description", "reason"])
    take(obj[key]);
  const data = obj.data;
  if (data && typeof data === "object" && !Array.isArray(data)) {
    const d = data as Record<string, unknown>;
    for (const key of ["error_message", "failed_reason", "message"]) take(d[key]);
  }
}

/** Extract a code and a message from any error body: JSON in several shapes, plain text, HTML, or nothing. */
export function parseErrorBody(text: string, contentType = ""): ErrorBodyInfo {
  const info: ErrorBodyInfo = {};
  const trimmed = text.trim();
  if (trimmed === "") return info;
  let json: unknown;
  let isJson = false;
  if (/^[[{"]/.test(trimmed)) {
    try {
      json = JSON.parse(trimmed);
      isJson = true;
    } catch {
      // not JSON after all: treat as text below
    }
  }
  if (isJson) {
    if (json && typeof json === "object" && !Array.isArray(json))
      fromObject(json as Record<string, unknown>, info);
    else if (typeof json === "string") fromObject({ message: json }, info);
  } else if (/html/i.test(contentType) || /^<(!doctype|html|head|body)/i.test(trimmed)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1]?.trim();
    const h1 = /<h1[^>]*>([^<]*)<\/h1>/i.exec(trimmed)?.[1]?.trim();
    info.message = `an HTML page${title || h1 ? ` ("${title || h1}")` : ""}`;
  } else {
    fromObject({ message: trimmed }, info);
  }
  if (!info.code || !isKlingErrorCode(info.code)) {
    const found = KNOWN_CODE_ANYWHERE.exec(trimmed)?.[1];
    if (found && !info.code) info.code = found;
  }
  return info;
}

const FAMILY_BY_CODE: Partial<Record<KlingErrorCode, number>> = {
  INVALID_PROMPT: 400,
  INVALID_DURATION: 400,
  INVALID_TYPE: 400,
  MISSING_IMAGE: 400,
  MISSING_VIDEO: 400,
  INVALID_REQUEST: 400,
  INVALID_API_KEY: 401,
  INSUFFICIENT_CREDITS: 402,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
};

export interface ErrorContext {
  /** "POST /api/generate" — for the message. */
  operation: string;
  /** Whether the call creates a task (a 5xx then means the task may exist). */
  creates: boolean;
  retryAfterMs?: number;
  secrets?: readonly string[];
  /** The status to classify by when it differs from the HTTP one (a 200 whose envelope says `code: 402`). */
  envelopeStatus?: number;
}

/**
 * The error for an HTTP answer that is not a success. The HTTP status picks the family; a code in the body
 * refines it (400 + INVALID_DURATION) or, when the status says nothing useful (200 with an error code, 404, 422),
 * picks it.
 */
export function errorFromResponse(
  status: number,
  bodyText: string,
  contentType: string,
  ctx: ErrorContext,
): KlingError {
  const info = parseErrorBody(bodyText, contentType);
  const serverMessage = info.message ? cleanServerText(info.message, ctx.secrets) : undefined;
  const serverCode = info.code ? cleanServerText(info.code, ctx.secrets) : undefined;
  const knownCode = isKlingErrorCode(serverCode) ? serverCode : undefined;

  const classifyBy = ctx.envelopeStatus ?? status;
  let family = classifyBy;
  if (classifyBy === 403) family = 401;
  else if (classifyBy >= 500) family = 500;
  else if (![400, 401, 402, 408, 429].includes(classifyBy)) {
    // The status does not name a family: let the body's code (or numeric code) decide.
    family =
      (knownCode && FAMILY_BY_CODE[knownCode]) ??
      (info.numericCode && info.numericCode >= 400 && info.numericCode < 600 ? info.numericCode : classifyBy);
    if (family === 403) family = 401;
    if (family >= 500) family = 500;
  }

  const detail = [serverCode, serverMessage].filter(Boolean).join(": ");
  const message = `Kling ${ctx.operation} failed with HTTP ${status}${detail ? ` (${detail})` : ""}`;
  const base = { message, httpStatus: status, serverCode, serverMessage };

  switch (family) {
    case 401:
      return new KlingAuthError(base);
    case 402:
      return new KlingInsufficientCreditsError(base);
    case 429:
      return new KlingRateLimitError({ ...base, retryAfterMs: ctx.retryAfterMs });
    case 408:
      // The server gave up waiting for us; the request may or may not have been acted on.
      return new KlingTimeoutError({ ...base, maybeSubmitted: ctx.creates });
    case 500:
      // The API's own documented answer, HTTP 500 with INTERNAL_ERROR, says "server error: try again later":
      // the task was not made, and the job goes back to the queue. Any other 5xx (a gateway's 502 page, a 503
      // without the code) or an error inside a 200 may have followed a created task.
      return new KlingServerError({
        ...base,
        maybeSubmitted:
          ctx.creates &&
          !(status === 500 && ctx.envelopeStatus === undefined && knownCode === "INTERNAL_ERROR"),
        retryAfterMs: ctx.retryAfterMs,
      });
    default: {
      if (family < 400 || family >= 500) {
        // 1xx/3xx, or a 2xx whose body carries an error we cannot place.
        return new KlingResponseError({ ...base, maybeSubmitted: ctx.creates });
      }
      const code: KlingErrorCode =
        knownCode && FAMILY_BY_CODE[knownCode] === 400 ? knownCode : "INVALID_REQUEST";
      return new KlingRequestError({ ...base, code });
    }
  }
}
