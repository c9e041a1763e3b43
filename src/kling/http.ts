import { Agent, type Dispatcher, request } from "undici";
import type { Logger } from "../log.js";
import {
  cleanServerText,
  errorFromResponse,
  type KlingError,
  KlingNetworkError,
  KlingTimeoutError,
} from "./errors.js";
import { cancelledError, type Operation } from "./operation.js";
import type { RateLimiter } from "./rate-limiter.js";
import { parseRetryAfter } from "./retry.js";

/** One HTTP exchange with Kling: rate limit, timeouts, auth header, a capped body, and typed failures. */

const MAX_BODY_BYTES = 1024 * 1024;

export interface Wire {
  /** Without a trailing slash. */
  baseUrl: string;
  apiKey: string;
  /** Limit for one attempt, from sending to the last byte of the answer. */
  timeoutMs: number;
  limiter: RateLimiter;
  dispatcher: Dispatcher;
  log: Logger;
  now: () => number;
  /** Told about every attempt that went to the network (metrics); it cannot change the outcome. */
  onCall?: ((call: KlingCallInfo) => void) | undefined;
}

/** One HTTP attempt, as a metrics hook sees it. */
export interface KlingCallInfo {
  /** `POST /api/generate` or `GET /api/status` (never the query, which holds the task id). */
  endpoint: string;
  /** `ok` for a 2xx answer; otherwise the error's code (`RATE_LIMITED`, `TIMEOUT`, …) or `cancelled`. */
  outcome: string;
  httpStatus: number | undefined;
  durationMs: number;
}

export type RawResponse = {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
};

/** The client's own keep-alive pool, with the connect, headers and body limits of one attempt. */
export function createAgent(timeoutMs: number, connectTimeoutMs: number | undefined): Agent {
  return new Agent({
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connections: 16,
    connect: { timeout: connectTimeoutMs ?? Math.min(timeoutMs, 10_000) },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}

/** One HTTP exchange: rate limit, send, read. Throws a KlingError for every failure, a non-2xx answer included. */
export async function sendOnce(
  wire: Wire,
  op: Operation,
  signals: { request: AbortSignal | undefined; waits: AbortSignal | undefined },
  attempt: number,
  beforeSend?: () => Promise<void>,
): Promise<RawResponse> {
  const signal = signals.request;
  try {
    await wire.limiter.acquire(signals.waits, op.creates ? "submit" : "status");
  } catch (err) {
    throw cancelledError(op, false, err);
  }
  // With the token in hand, and before a byte leaves: what throws here stops the call, nothing sent.
  await beforeSend?.();
  const tracker = { sent: false };
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error("timeout"));
  }, wire.timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const started = performance.now();
  let res: RawResponse;
  try {
    const answer = await request(`${wire.baseUrl}${op.path}`, {
      dispatcher: wire.dispatcher.compose(trackSent(tracker)),
      method: op.method,
      headers: {
        authorization: `Bearer ${wire.apiKey}`,
        accept: "application/json",
        ...(op.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: op.body,
      signal: controller.signal,
      headersTimeout: wire.timeoutMs,
      bodyTimeout: wire.timeoutMs,
    });
    res = { statusCode: answer.statusCode, headers: answer.headers, text: await readCapped(answer.body) };
  } catch (err) {
    const durationMs = Math.round(performance.now() - started);
    const failure = signal?.aborted
      ? cancelledError(op, tracker.sent, err)
      : transportError(wire, op, err, tracker.sent, timedOut);
    report(wire, op, signal?.aborted ? "cancelled" : failure.code, undefined, durationMs);
    wire.log.debug(
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
    throw failure;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
  const durationMs = Math.round(performance.now() - started);
  wire.log.debug(
    { method: op.method, path: op.path, status: res.statusCode, attempt, durationMs },
    "Kling call",
  );
  if (res.statusCode < 200 || res.statusCode >= 300) {
    const contentType = String(res.headers["content-type"] ?? "");
    const error = errorFromResponse(res.statusCode, res.text, contentType, {
      operation: op.label,
      creates: op.creates,
      retryAfterMs: parseRetryAfter(res.headers["retry-after"], wire.now()),
      secrets: [wire.apiKey],
    });
    report(wire, op, error.code, res.statusCode, durationMs);
    throw error;
  }
  report(wire, op, "ok", res.statusCode, durationMs);
  return res;
}

function report(
  wire: Wire,
  op: Operation,
  outcome: string,
  httpStatus: number | undefined,
  durationMs: number,
): void {
  if (!wire.onCall) return;
  try {
    wire.onCall({ endpoint: `${op.method} ${op.path.split("?")[0]}`, outcome, httpStatus, durationMs });
  } catch (err) {
    wire.log.warn({ err }, "Kling call hook failed");
  }
}

function transportError(
  wire: Wire,
  op: Operation,
  err: unknown,
  sent: boolean,
  timedOut: boolean,
): KlingError {
  const code = errorCodeOf(err);
  const maybeSubmitted = op.creates && sent;
  const where = sent ? "after the request was sent" : "before the request was sent";
  if (code === "UND_ERR_CONNECT_TIMEOUT") {
    return new KlingTimeoutError({ message: `Kling ${op.label}: could not connect in time`, cause: err });
  }
  if (timedOut || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return new KlingTimeoutError({
      message: `Kling ${op.label} timed out after ${wire.timeoutMs} ms ${where}`,
      maybeSubmitted,
      cause: err,
    });
  }
  const detail = cleanServerText(err instanceof Error ? err.message : String(err), [wire.apiKey]);
  return new KlingNetworkError({
    message: `Kling ${op.label} failed ${where}: ${code ?? "network error"}${detail ? ` (${detail})` : ""}`,
    maybeSubmitted,
    cause: err,
  });
}

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
