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

export interface RateLimiterOptions {
  ratePerSecond: number;
  /** How many calls may go at once after a quiet spell. Default 1: calls are spaced evenly. */
  burst?: number;
  clock?: LimiterClock;
}

/**
 * A token bucket shared by every Kling call of the process, so that many polling jobs together stay under
 * the API's rate limit. Each `acquire` reserves a token at once (the balance may go negative) and waits until
 * the bucket has refilled that far; reservations are therefore served in call order.
 */
export class RateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #clock: LimiterClock;
  #tokens: number;
  #last: number;

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
    this.#tokens = burst;
    this.#last = this.#clock.now();
  }

  /** Resolves when the caller may send one request; rejects with the signal's reason when aborted. */
  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return;
    const waitMs = (-this.#tokens * 1000) / this.ratePerSecond;
    try {
      await this.#clock.sleep(waitMs, signal);
    } catch (err) {
      // The reservation was never used: give it back so later callers are not held up for it.
      this.#refill();
      this.#tokens = Math.min(this.burst, this.#tokens + 1);
      throw err;
    }
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
