import { setTimeout as sleepTimer } from "node:timers/promises";
import type { Dispatcher } from "undici";
import type { Logger } from "../log.js";
import { silentLogger } from "../log.js";
import { KlingRequestError, KlingResponseError } from "./errors.js";
import { createAgent, type KlingCallInfo, type RawResponse, sendOnce, type Wire } from "./http.js";
import { type NormaliseContext, normaliseStatus } from "./normalise.js";
import type { Operation } from "./operation.js";
import { RateLimiter } from "./rate-limiter.js";
import { generateDataSchema, readEnvelope, snippet, statusDataSchema } from "./response.js";
import { type RetryPolicy, withRetries } from "./retry.js";
import { type GenerateRequest, parseGenerateRequest, type TaskStatus, toWireBody } from "./types.js";

/**
 * The Kling HTTP client: the API's two verbs on top of the wire (http.ts: one attempt; retry.ts: when to
 * repeat it; response.ts: the envelope). Callers get a normalised `TaskStatus` (normalise.ts) and typed
 * errors (errors.ts).
 */

export type { KlingCallInfo } from "./http.js";
export type { TaskStatus } from "./types.js";

export interface GenerateResult {
  taskId: string;
  status: TaskStatus;
}

export interface CallOptions {
  /** Cancels the call (and any wait for a retry); the call then rejects with `KlingCancelledError`. */
  signal?: AbortSignal;
  /**
   * Run once, when the call holds its rate-limit token and before its request is written (a submit marks its
   * job as being sent there, so a job waiting for a token is never taken for one in flight). What it throws
   * ends the call with nothing sent.
   */
  beforeSend?: () => Promise<void>;
  /**
   * Ends the call's waits (for a rate-limit token, before a retry) but never a request already sent: a process
   * that stops uses it so that a step in hand finishes while nothing new starts.
   */
  stopWaiting?: AbortSignal;
  /** `false`: one attempt only; the caller reschedules failures itself (a queue that puts a job back). */
  retry?: boolean;
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
  /** Told about each HTTP attempt that went to the network: endpoint, outcome, latency (src/metrics). */
  onCall?: (call: KlingCallInfo) => void;
}

const GENERATE_PATH = "/api/generate";
const STATUS_PATH = "/api/status";

export class KlingClient implements KlingApi {
  readonly #wire: Wire;
  readonly #retry: RetryPolicy;
  readonly #status: NormaliseContext;
  readonly #ownsDispatcher: boolean;

  constructor(options: KlingClientOptions) {
    if (!options.apiKey) throw new TypeError("KlingClient needs an API key");
    const base = new URL(options.baseUrl);
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new TypeError("KlingClient baseUrl must be an http(s) URL");
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    const log = options.logger ?? silentLogger();
    this.#ownsDispatcher = !options.dispatcher;
    this.#wire = {
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      apiKey: options.apiKey,
      timeoutMs,
      limiter: options.rateLimiter ?? new RateLimiter({ ratePerSecond: options.ratePerSecond ?? 5 }),
      dispatcher: options.dispatcher ?? createAgent(timeoutMs, options.connectTimeoutMs),
      log,
      now: options.now ?? Date.now,
      onCall: options.onCall,
    };
    this.#retry = {
      maxRetries: options.maxRetries ?? 4,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      backoffBaseMs: options.backoffBaseMs ?? 250,
      backoffCapMs: options.backoffCapMs ?? 4_000,
      sleep: options.sleep ?? ((ms, signal) => sleepTimer(ms, undefined, signal ? { signal } : undefined)),
      random: options.random ?? Math.random,
      log,
    };
    this.#status = { log, apiKey: options.apiKey, unknownStatuses: new Set() };
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
    const res = await this.#send(op, signalOf(options), callOptions(options));
    const data = readEnvelope(op, res, this.#wire.apiKey);
    const parsed = generateDataSchema.safeParse(data);
    if (!parsed.success) {
      throw new KlingResponseError({
        message: `Kling ${op.label} answered HTTP ${res.statusCode} without a task id (${snippet(res.text, this.#wire.apiKey)})`,
        httpStatus: res.statusCode,
        maybeSubmitted: true,
      });
    }
    const id = parsed.data.task_id;
    const status = normaliseStatus(this.#status, id, { ...parsed.data, response: undefined }, true);
    return { taskId: id, status };
  }

  /** Read a task's state. Retries 429, 5xx, timeouts and network failures with backoff. */
  async status(taskId: string, options?: CallOptions | AbortSignal): Promise<TaskStatus> {
    if (typeof taskId !== "string" || taskId.trim() === "") {
      throw KlingRequestError.invalid(["A task id is needed to read a task's status."]);
    }
    const path = `${STATUS_PATH}?task_id=${encodeURIComponent(taskId)}`;
    const op: Operation = { method: "GET", path, creates: false, label: `GET ${STATUS_PATH}` };
    const res = await this.#send(op, signalOf(options), callOptions(options));
    const data = readEnvelope(op, res, this.#wire.apiKey);
    const parsed = statusDataSchema.safeParse(data);
    if (!parsed.success) {
      throw new KlingResponseError({
        message: `Kling ${op.label} answered with an unreadable task (${snippet(res.text, this.#wire.apiKey)})`,
        httpStatus: res.statusCode,
      });
    }
    if (parsed.data.task_id && parsed.data.task_id !== taskId) {
      this.#wire.log.warn(
        { taskId, answeredFor: parsed.data.task_id },
        "Kling status answered for another task id",
      );
    }
    return normaliseStatus(this.#status, taskId, parsed.data, false);
  }

  /** Close the pooled connections (only those of the client's own Agent). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#wire.dispatcher.close();
  }

  #send(op: Operation, signal: AbortSignal | undefined, options: CallOptions = {}): Promise<RawResponse> {
    let first = options.beforeSend;
    const waits =
      options.stopWaiting && signal
        ? AbortSignal.any([signal, options.stopWaiting])
        : (options.stopWaiting ?? signal);
    const policy = options.retry === false ? { ...this.#retry, maxRetries: 0 } : this.#retry;
    return withRetries(policy, op, waits, (attempt) => {
      const hook = first;
      first = undefined;
      return sendOnce(this.#wire, op, { request: signal, waits }, attempt, hook);
    });
  }
}

function signalOf(options: CallOptions | AbortSignal | undefined): AbortSignal | undefined {
  return options instanceof AbortSignal ? options : options?.signal;
}

function callOptions(options: CallOptions | AbortSignal | undefined): CallOptions {
  return options instanceof AbortSignal ? {} : (options ?? {});
}
