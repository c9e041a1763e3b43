import { setTimeout as sleepTimer } from "node:timers/promises";

/** Time source for the limiter; tests may hand in a fake one. */
export interface LimiterClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: LimiterClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleepTimer(ms, undefined, signal ? { signal } : undefined),
};

/** Submits are served before status checks: a member waiting for a submit is waiting for everything. */
export type Lane = "submit" | "status";

export interface RateLimiterOptions {
  ratePerSecond: number;
  /** How many calls may go at once after a quiet spell. Default 1: calls are spaced evenly. */
  burst?: number;
  clock?: LimiterClock;
}

/**
 * Calls are spaced this much wider than the rate asks, so that even after a few milliseconds of jitter on the way
 * the API never counts more than the rate in any one-second window.
 */
const SAFETY = 0.02;
/** Rounding slack when comparing token counts. */
const EPSILON = 1e-6;

interface Waiter {
  lane: Lane;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * A token bucket shared by every Kling call of the process, so that many polling jobs together stay under
 * the API's rate limit. A token is handed out only when the call can go *now*: waiting calls reserve nothing,
 * so the spacing holds between the moments calls really leave, and a call that gives up (its signal aborts)
 * never holds back the others. Waiting submits are served before waiting status checks; within a lane, in
 * arrival order.
 */
export class RateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #clock: LimiterClock;
  /** Milliseconds per token. */
  readonly #interval: number;
  #tokens: number;
  #last: number;
  readonly #queues: Record<Lane, Waiter[]> = { submit: [], status: [] };
  #pumping = false;

  constructor(options: RateLimiterOptions) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
      throw new RangeError(`ratePerSecond must be a positive number, got ${options.ratePerSecond}`);
    }
    const burst = options.burst ?? 1;
    if (!(burst >= 1) || !Number.isFinite(burst))
      throw new RangeError(`burst must be at least 1, got ${burst}`);
    this.ratePerSecond = options.ratePerSecond;
    this.burst = burst;
    this.#clock = options.clock ?? systemClock;
    this.#interval = (1000 / options.ratePerSecond) * (1 + SAFETY);
    this.#tokens = burst;
    this.#last = this.#clock.now();
  }

  /** Calls waiting for a token, per lane. */
  get waiting(): Readonly<Record<Lane, number>> {
    return { submit: this.#queues.submit.length, status: this.#queues.status.length };
  }

  /**
   * Resolves when the caller may send one request (send it at once); rejects with the signal's reason when
   * aborted, without using a token.
   */
  acquire(signal?: AbortSignal, lane: Lane = "status"): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#refill();
    if (this.#tokens >= 1 - EPSILON && !this.#pumping) {
      this.#tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        lane,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const queue = this.#queues[lane];
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queues[lane].push(waiter);
      if (!this.#pumping) void this.#pump();
    });
  }

  /** Hand out tokens to the waiting calls as they come in, submits first. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      for (;;) {
        this.#refill();
        while (this.#tokens >= 1 - EPSILON) {
          const next = this.#queues.submit.shift() ?? this.#queues.status.shift();
          if (!next) return;
          this.#tokens -= 1;
          next.resolve();
        }
        if (this.#queues.submit.length + this.#queues.status.length === 0) return;
        const wait = Math.max(1, Math.ceil((1 - this.#tokens) * this.#interval - EPSILON));
        await this.#clock.sleep(wait);
      }
    } catch (err) {
      // A clock that cannot sleep: fail the waiting calls rather than leave them hanging.
      for (const waiter of [...this.#queues.submit.splice(0), ...this.#queues.status.splice(0)]) {
        waiter.reject(err);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + elapsed / this.#interval);
  }
}
