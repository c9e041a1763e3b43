import { setTimeout as sleepTimer } from "node:timers/promises";
import { Agent, type Dispatcher, request } from "undici";
import { z } from "zod";
import type { Logger } from "../log.js";
import { silentLogger } from "../log.js";
import {
  cleanServerText,
  errorFromResponse,
  KlingCancelledError,
  KlingError,
  KlingNetworkError,
  KlingRequestError,
  KlingResponseError,
  KlingTimeoutError,
} from "./errors.js";
import { RateLimiter } from "./rate-limiter.js";
import { type GenerateRequest, parseGenerateRequest, type TaskStatus, toWireBody } from "./types.js";

/**
 * The Kling HTTP client. It owns the wire: paths, headers, the response envelope, retries and timeouts.
 * Callers get a normalised `TaskStatus` and typed errors (see errors.ts).
 */

export type { TaskStatus } from "./types.js";

export interface GenerateResult {
  taskId: string;
  status: TaskStatus;
}

export interface CallOptions {
  /** Cancels the call (and any wait for a retry); the call then rejects with `KlingCancelledError`. */
  signal?: AbortSignal;
}

/** What the rest of the bot needs from Kling; the composition root hands in a `KlingClient`. */
export interface KlingApi {
  generate(req: GenerateRequest, options?: CallOptions | AbortSignal): Promise<GenerateResult>;
  status(taskId: string, options?: CallOptions | AbortSignal): Promise<TaskStatus>;
}

export interface KlingClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Limit for one HTTP attempt, from sending to the last byte of the answer. Default 30 s. */
  timeoutMs?: number;
  /** Extra attempts after the first, for the failures that are safe to repeat. Default 4. */
  maxRetries?: number;
  /** Share one limiter across every client of the process; otherwise one is made from `ratePerSecond`. */
  rateLimiter?: RateLimiter;
  ratePerSecond?: number;
  logger?: Logger;
  /** An undici dispatcher to use instead of the client's own keep-alive Agent (the caller then closes it). */
  dispatcher?: Dispatcher;
  /** Limit for opening a connection. Default: the smaller of `timeoutMs` and 10 s. */
  connectTimeoutMs?: number;
  /** Backoff for retries without a Retry-After: full jitter over base·2^attempt, capped. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /**
   * A Retry-After longer than this is not waited for: the call fails with `retryAfterMs` set, so the caller can
   * reschedule instead of holding a slot for minutes. Default 60 s.
   */
  maxRetryAfterMs?: number;
  /** Injectable waiting and randomness, so backoff can be tested without real delays. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

const MAX_BODY_BYTES = 1024 * 1024;
const GENERATE_PATH = "/api/generate";
const STATUS_PATH = "/api/status";

// Status words, normalised to upper snake case. The seed shows IN_PROGRESS and SUCCESS; the rest were seen in
// public client code for this gateway or are common spellings of the same states.
const RUNNING = new Set([
  "IN_PROGRESS",
  "PENDING",
  "QUEUED",
  "QUEUING",
  "PROCESSING",
  "RUNNING",
  "SUBMITTED",
  "CREATED",
  "STARTING",
  "STARTED",
  "WAITING",
  "GENERATING",
]);
const SUCCEEDED = new Set([
  "SUCCESS",
  "SUCCEEDED",
  "SUCCESSFUL",
  "COMPLETED",
  "COMPLETE",
  "DONE",
  "FINISHED",
]);
const FAILED = new Set(["FAILED", "FAILURE", "FAIL", "ERROR", "EXPIRED", "CANCELLED", "CANCELED", "TIMEOUT"]);

// Minimal response schemas: only what the client reads, tolerant of extra fields and of codes as numbers or strings.
const credits = z
  .union([z.number(), z.string()])
  .nullish()
  .transform((v) => {
    const n = typeof v === "string" ? Number(v) : v;
    return typeof n === "number" && Number.isFinite(n) ? n : undefined;
  });
const taskId = z.union([z.string().trim().min(1), z.number()]).transform(String);
const envelopeSchema = z.looseObject({
  code: z.union([z.number(), z.string()]).nullish(),
  message: z.unknown().optional(),
  data: z.unknown().optional(),
});
const generateDataSchema = z.looseObject({
  task_id: taskId,
  status: z.string().nullish(),
  consumed_credits: credits,
});
const statusDataSchema = z.looseObject({
  task_id: taskId.optional(),
  status: z.string().nullish(),
  consumed_credits: credits,
  response: z.unknown().optional(),
  error_message: z.unknown().optional(),
  failed_reason: z.unknown().optional(),
});

type Operation = { method: "GET" | "POST"; path: string; body?: string; creates: boolean; label: string };
type RawResponse = {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
};

/** Marks a request as (possibly) on the wire: undici calls onRequestStart just before it writes the request. */
function trackSent(tracker: { sent: boolean }): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) =>
    dispatch(opts, {
      onRequestStart(controller, context) {
        tracker.sent = true;
        handler.onRequestStart?.(controller, context);
      },
      onRequestUpgrade: (...args) => handler.onRequestUpgrade?.(...args),
      onResponseStart: (...args) => handler.onResponseStart?.(...args),
      onResponseData: (...args) => handler.onResponseData?.(...args),
      onResponseEnd: (...args) => handler.onResponseEnd?.(...args),
      onResponseError: (...args) => handler.onResponseError?.(...args),
      onBodySent: (...args) => handler.onBodySent?.(...args),
      onRequestSent: (...args) => handler.onRequestSent?.(...args),
    });
}

function errorCodeOf(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    const inner = (current as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      const found = inner.map(errorCodeOf).find(Boolean);
      if (found) return found;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function firstVideoUrl(response: unknown): string | undefined {
  const first = Array.isArray(response) ? response[0] : response;
  const candidate =
    typeof first === "string"
      ? first
      : first && typeof first === "object"
        ? (first as { url?: unknown }).url
        : undefined;
  if (typeof candidate !== "string") return undefined;
  try {
    const url = new URL(candidate.trim());
    return url.protocol === "https:" || url.protocol === "http:" ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

function reasonText(value: unknown): string | undefined {
  if (typeof value === "string") return value.trim() || undefined;
  if (value && typeof value === "object") {
    const msg = (value as { message?: unknown }).message;
    if (typeof msg === "string" && msg.trim()) return msg.trim();
    return JSON.stringify(value);
  }
  return undefined;
}

export class KlingClient implements KlingApi {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #limiter: RateLimiter;
  readonly #log: Logger;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #backoffBaseMs: number;
  readonly #backoffCapMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #unknownStatuses = new Set<string>();

  constructor(options: KlingClientOptions) {
    if (!options.apiKey) throw new TypeError("KlingClient needs an API key");
    const base = new URL(options.baseUrl);
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new TypeError("KlingClient baseUrl must be an http(s) URL");
    }
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxRetries = options.maxRetries ?? 4;
    this.#limiter = options.rateLimiter ?? new RateLimiter({ ratePerSecond: options.ratePerSecond ?? 5 });
    this.#log = options.logger ?? silentLogger();
    this.#backoffBaseMs = options.backoffBaseMs ?? 250;
    this.#backoffCapMs = options.backoffCapMs ?? 4_000;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.#sleep =
      options.sleep ?? ((ms, signal) => sleepTimer(ms, undefined, signal ? { signal } : undefined));
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    if (options.dispatcher) {
      this.#dispatcher = options.dispatcher;
      this.#ownsDispatcher = false;
    } else {
      this.#dispatcher = new Agent({
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 60_000,
        connections: 16,
        connect: { timeout: options.connectTimeoutMs ?? Math.min(this.#timeoutMs, 10_000) },
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      this.#ownsDispatcher = true;
    }
  }

  /**
   * Create a task. Validated locally first (no HTTP call on invalid input). Repeated only when the server
   * surely did not act on it: a 429, or a failure before the request was written (connection refused, DNS,
   * connect timeout). A timeout, reset or 5xx after sending is thrown with `maybeSubmitted: true`.
   */
  async generate(input: GenerateRequest, options?: CallOptions | AbortSignal): Promise<GenerateResult> {
    const req = parseGenerateRequest(input);
    const op: Operation = {
      method: "POST",
      path: GENERATE_PATH,
      body: JSON.stringify(toWireBody(req)),
      creates: true,
      label: `POST ${GENERATE_PATH}`,
    };
    const res = await this.#withRetries(op, signalOf(options));
    const data = this.#readEnvelope(op, res);
    const parsed = generateDataSchema.safeParse(data);
    if (!parsed.success) {
      throw new KlingResponseError({
        message: `Kling ${op.label} answered HTTP ${res.statusCode} without a task id (${this.#snippet(res.text)})`,
        httpStatus: res.statusCode,
        maybeSubmitted: true,
      });
    }
    const id = parsed.data.task_id;
    const status = this.#normalise(id, { ...parsed.data, response: undefined }, true);
    return { taskId: id, status };
  }

  /** Read a task's state. Retries 429, 5xx, timeouts and network failures with backoff. */
  async status(taskId: string, options?: CallOptions | AbortSignal): Promise<TaskStatus> {
    if (typeof taskId !== "string" || taskId.trim() === "") {
      throw KlingRequestError.invalid(["A task id is needed to read a task's status."]);
    }
    const path = `${STATUS_PATH}?task_id=${encodeURIComponent(taskId)}`;
    const op: Operation = { method: "GET", path, creates: false, label: `GET ${STATUS_PATH}` };
    const res = await this.#withRetries(op, signalOf(options));
    const data = this.#readEnvelope(op, res);
    const parsed = statusDataSchema.safeParse(data);
    if (!parsed.success) {
      throw new KlingResponseError({
        message: `Kling ${op.label} answered with an unreadable task (${this.#snippet(res.text)})`,
        httpStatus: res.statusCode,
      });
    }
    if (parsed.data.task_id && parsed.data.task_id !== taskId) {
      this.#log.warn(
        { taskId, answeredFor: parsed.data.task_id },
        "Kling status answered for another task id",
      );
    }
    return this.#normalise(taskId, parsed.data, false);
  }

  /** Close the pooled connections (only those of the client's own Agent). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  async #withRetries(op: Operation, signal: AbortSignal | undefined): Promise<RawResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(op, signal, attempt);
      } catch (err) {
        if (!(err instanceof KlingError) || !err.retryable || attempt >= this.#maxRetries) throw err;
        let delay: number;
        if (err.retryAfterMs !== undefined) {
          if (err.retryAfterMs > this.#maxRetryAfterMs) throw err;
          delay = err.retryAfterMs;
        } else {
          delay = this.#random() * Math.min(this.#backoffCapMs, this.#backoffBaseMs * 2 ** attempt);
        }
        this.#log.warn(
          {
            method: op.method,
            path: op.path,
            code: err.code,
            httpStatus: err.httpStatus,
            attempt,
            delayMs: Math.round(delay),
          },
          "Kling call failed; retrying",
        );
        try {
          await this.#sleep(delay, signal);
        } catch (sleepErr) {
          throw this.#cancelled(op, false, sleepErr);
        }
      }
    }
  }

  /** One HTTP exchange: rate limit, send, read. Throws a KlingError for every failure. */
  async #attempt(op: Operation, signal: AbortSignal | undefined, attempt: number): Promise<RawResponse> {
    try {
      await this.#limiter.acquire(signal);
    } catch (err) {
      throw this.#cancelled(op, false, err);
    }
    const tracker = { sent: false };
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error("timeout"));
    }, this.#timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const started = performance.now();
    let res: RawResponse;
    try {
      const answer = await request(`${this.#baseUrl}${op.path}`, {
        dispatcher: this.#dispatcher.compose(trackSent(tracker)),
        method: op.method,
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          accept: "application/json",
          ...(op.body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: op.body,
        signal: controller.signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      res = { statusCode: answer.statusCode, headers: answer.headers, text: await readCapped(answer.body) };
    } catch (err) {
      const durationMs = Math.round(performance.now() - started);
      this.#log.debug(
        {
          method: op.method,
          path: op.path,
          attempt,
          durationMs,
          sent: tracker.sent,
          error: errorCodeOf(err),
        },
        "Kling call failed without an answer",
      );
      if (signal?.aborted) throw this.#cancelled(op, tracker.sent, err);
      throw this.#transportError(op, err, tracker.sent, timedOut);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
    this.#log.debug(
      {
        method: op.method,
        path: op.path,
        status: res.statusCode,
        attempt,
        durationMs: Math.round(performance.now() - started),
      },
      "Kling call",
    );
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const contentType = String(res.headers["content-type"] ?? "");
      throw errorFromResponse(res.statusCode, res.text, contentType, {
        operation: op.label,
        creates: op.creates,
        retryAfterMs: parseRetryAfter(res.headers["retry-after"], this.#now()),
        secrets: [this.#apiKey],
      });
    }
    return res;
  }

  #transportError(op: Operation, err: unknown, sent: boolean, timedOut: boolean): KlingError {
    const code = errorCodeOf(err);
    const maybeSubmitted = op.creates && sent;
    const where = sent ? "after the request was sent" : "before the request was sent";
    if (code === "UND_ERR_CONNECT_TIMEOUT") {
      return new KlingTimeoutError({ message: `Kling ${op.label}: could not connect in time`, cause: err });
    }
    if (timedOut || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      return new KlingTimeoutError({
        message: `Kling ${op.label} timed out after ${this.#timeoutMs} ms ${where}`,
        maybeSubmitted,
        cause: err,
      });
    }
    const detail = cleanServerText(err instanceof Error ? err.message : String(err), [this.#apiKey]);
    return new KlingNetworkError({
      message: `Kling ${op.label} failed ${where}: ${code ?? "network error"}${detail ? ` (${detail})` : ""}`,
      maybeSubmitted,
      cause: err,
    });
  }

  #cancelled(op: Operation, sent: boolean, cause: unknown): KlingCancelledError {
    return new KlingCancelledError({
      message: `Kling ${op.label} was cancelled ${sent ? "after" : "before"} the request was sent`,
      maybeSubmitted: op.creates && sent,
      cause,
    });
  }

  /** The `data` of a 2xx answer; an envelope whose `code` reports an error becomes that error. */
  #readEnvelope(op: Operation, res: RawResponse): unknown {
    let json: unknown;
    try {
      json = JSON.parse(res.text);
    } catch {
      throw new KlingResponseError({
        message: `Kling ${op.label} answered HTTP ${res.statusCode} with a body that is not JSON (${this.#snippet(res.text)})`,
        httpStatus: res.statusCode,
        maybeSubmitted: op.creates,
      });
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) {
      throw new KlingResponseError({
        message: `Kling ${op.label} answered HTTP ${res.statusCode} with an unexpected body (${this.#snippet(res.text)})`,
        httpStatus: res.statusCode,
        maybeSubmitted: op.creates,
      });
    }
    const { code, data } = envelope.data;
    const numeric =
      typeof code === "number"
        ? code
        : typeof code === "string" && /^\d+$/.test(code)
          ? Number(code)
          : undefined;
    const errorWord = typeof code === "string" && numeric === undefined && !/^(ok|success)$/i.test(code);
    if ((numeric !== undefined && numeric >= 400) || (errorWord && data === undefined)) {
      // Some gateways answer 200 and put the failure in the envelope.
      throw errorFromResponse(res.statusCode, res.text, "application/json", {
        envelopeStatus: numeric,
        operation: op.label,
        creates: op.creates,
        secrets: [this.#apiKey],
      });
    }
    if (data !== undefined && data !== null) return data;
    // No envelope at all: accept the task fields at the top level.
    return json;
  }

  #normalise(
    taskId: string,
    data: z.infer<typeof statusDataSchema> | z.infer<typeof generateDataSchema>,
    fromGenerate: boolean,
  ): TaskStatus {
    const raw = (data.status ?? "").trim();
    const key = raw.toUpperCase().replace(/[\s-]+/g, "_");
    const consumed = data.consumed_credits === undefined ? {} : { consumedCredits: data.consumed_credits };
    const d = data as z.infer<typeof statusDataSchema>;
    if (SUCCEEDED.has(key)) {
      const videoUrl = firstVideoUrl(d.response);
      if (videoUrl) return { state: "succeeded", taskId, videoUrl, ...consumed };
      // A just-created task cannot have a video yet; the poll will find it.
      if (fromGenerate) return { state: "running", taskId, rawStatus: raw, ...consumed };
      // Polling again would not change the answer: end the job at once with the reason.
      this.#log.warn({ taskId, rawStatus: raw }, "Kling reported a finished task without a usable video URL");
      return { state: "unusable", taskId, reason: "no usable video URL in data.response", ...consumed };
    }
    if (FAILED.has(key)) {
      const reason =
        reasonText(d.error_message) ??
        reasonText(d.failed_reason) ??
        (key === "EXPIRED" ? "The task expired before it finished." : `Kling reported the task as ${raw}.`);
      return { state: "failed", taskId, reason: cleanServerText(reason, [this.#apiKey]), ...consumed };
    }
    if (!RUNNING.has(key) && !(fromGenerate && key === "")) {
      // Keep polling until the job's own time limit rather than guess; tell the operator once per status word.
      if (!this.#unknownStatuses.has(key)) {
        this.#unknownStatuses.add(key);
        this.#log.warn(
          { taskId, rawStatus: raw },
          "Kling reported an unknown task status; treating it as running",
        );
      }
    }
    return { state: "running", taskId, rawStatus: raw || "(none)", ...consumed };
  }

  #snippet(text: string): string {
    const clean = cleanServerText(text, [this.#apiKey]);
    if (clean === "") return "empty body";
    return clean.length > 120 ? `${clean.slice(0, 119)}…` : clean;
  }
}

function signalOf(options: CallOptions | AbortSignal | undefined): AbortSignal | undefined {
  return options instanceof AbortSignal ? options : options?.signal;
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
