import type { Logger } from "../log.js";
import { KlingError } from "./errors.js";
import { cancelledError, type Operation } from "./operation.js";

export interface RetryPolicy {
  /** Extra attempts after the first, for the failures that are safe to repeat. */
  maxRetries: number;
  /** A longer Retry-After is not waited for: the error is thrown with `retryAfterMs` set. */
  maxRetryAfterMs: number;
  /** Backoff without a Retry-After: full jitter over base·2^attempt, capped. */
  backoffBaseMs: number;
  backoffCapMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  log: Logger;
}

/**
 * Run `attempt` until it succeeds or fails with an error that is not worth repeating. Which failures are
 * retryable is each KlingError's own answer (a create is retried only when it surely was not acted on).
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  op: Operation,
  signal: AbortSignal | undefined,
  attempt: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof KlingError) || !err.retryable || n >= policy.maxRetries) throw err;
      let delay: number;
      if (err.retryAfterMs !== undefined) {
        if (err.retryAfterMs > policy.maxRetryAfterMs) throw err;
        delay = err.retryAfterMs;
      } else {
        delay = policy.random() * Math.min(policy.backoffCapMs, policy.backoffBaseMs * 2 ** n);
      }
      policy.log.warn(
        {
          method: op.method,
          path: op.path,
          code: err.code,
          httpStatus: err.httpStatus,
          attempt: n,
          delayMs: Math.round(delay),
        },
        "Kling call failed; retrying",
      );
      try {
        await policy.sleep(delay, signal);
      } catch (sleepErr) {
        throw cancelledError(op, false, sleepErr);
      }
    }
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
