import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KlingClient } from "../../src/kling/client.js";
import { type LimiterClock, RateLimiter } from "../../src/kling/rate-limiter.js";
import { type KlingSimulator, startKlingSimulator } from "../../src/kling-sim/server.js";

/** A clock that only moves when someone sleeps on it: each acquire's wait is read off exactly. */
function fakeClock(): LimiterClock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      clock.t += ms;
    },
  };
  return clock;
}

describe("RateLimiter (fake clock)", () => {
  it("spaces calls evenly at the rate (2 % wider) with burst 1", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ ratePerSecond: 10, clock });
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      await limiter.acquire();
      times.push(Math.round(clock.t));
    }
    expect(times).toEqual([0, 102, 204, 306, 408]);
  });

  it("lets a burst through at once, then refills at the rate", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ ratePerSecond: 4, burst: 3, clock });
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      await limiter.acquire();
      times.push(Math.round(clock.t));
    }
    expect(times).toEqual([0, 0, 0, 255, 510]);
    clock.t += 10_000; // a quiet spell refills to the burst, not beyond
    const before = clock.t;
    for (let i = 0; i < 4; i++) await limiter.acquire();
    expect(clock.t - before).toBe(255);
  });

  it("rejects an aborted acquire and gives its reservation back", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ ratePerSecond: 1, clock });
    await limiter.acquire();
    await expect(limiter.acquire(AbortSignal.abort())).rejects.toThrow();
    await limiter.acquire();
    expect(clock.t).toBe(1_020);
  });

  it("serves waiting submits before waiting status checks, each lane in arrival order", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ ratePerSecond: 10, clock });
    await limiter.acquire();
    const order: string[] = [];
    const calls = [
      limiter.acquire(undefined, "status").then(() => order.push("status 1")),
      limiter.acquire(undefined, "status").then(() => order.push("status 2")),
      limiter.acquire(undefined, "submit").then(() => order.push("submit 1")),
      limiter.acquire(undefined, "submit").then(() => order.push("submit 2")),
    ];
    expect(limiter.waiting).toEqual({ submit: 2, status: 2 });
    await Promise.all(calls);
    expect(order).toEqual(["submit 1", "submit 2", "status 1", "status 2"]);
  });

  it("holds no token for a waiting call that gives up", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ ratePerSecond: 1, clock });
    await limiter.acquire();
    const gaveUp = new AbortController();
    const abandoned = limiter.acquire(gaveUp.signal);
    gaveUp.abort(new Error("stopping"));
    await expect(abandoned).rejects.toThrow("stopping");
    expect(limiter.waiting).toEqual({ submit: 0, status: 0 });
    await limiter.acquire();
    expect(clock.t).toBe(1_020);
  });
});

describe("RateLimiter (real clock)", () => {
  it("never lets more than the rate go in any one-second window, whenever the calls come", async () => {
    const rate = 5;
    const limiter = new RateLimiter({ ratePerSecond: rate });
    const granted: number[] = [];
    // 20 callers arriving at scattered moments over 1.5 s, some while others wait.
    const arrivals = Array.from({ length: 20 }, (_, i) => (i * 7919) % 1500);
    await Promise.all(
      arrivals.map(async (at) => {
        await new Promise((r) => setTimeout(r, at));
        await limiter.acquire();
        granted.push(performance.now());
      }),
    );
    granted.sort((a, b) => a - b);
    for (const start of granted) {
      const inWindow = granted.filter((t) => t >= start && t < start + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(rate);
    }
  });

  it("refuses nonsense settings", () => {
    expect(() => new RateLimiter({ ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ ratePerSecond: 5, burst: 0 })).toThrow(RangeError);
  });
});

describe("RateLimiter over real HTTP", () => {
  let sim: KlingSimulator;
  const clients: KlingClient[] = [];
  beforeEach(async () => {
    sim = await startKlingSimulator({ taskDurationMs: 60_000 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await sim.close();
  });

  it("holds two clients sharing one limiter to its rate", async () => {
    const rate = 20;
    const limiter = new RateLimiter({ ratePerSecond: rate });
    const make = () => {
      const c = new KlingClient({ baseUrl: sim.url, apiKey: sim.apiKey, rateLimiter: limiter });
      clients.push(c);
      return c;
    };
    const [a, b] = [make(), make()];
    const { taskId } = await a.generate({ type: "o3-std-text-to-video", prompt: "p" });
    sim.clearRequests();

    const n = 12;
    await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? a : b).status(taskId)));
    const at = sim.requestsTo("status").map((r) => r.at);
    expect(at).toHaveLength(n);
    const first = Math.min(...at);
    // Generous bounds: timers never fire early, so the limiter can only be slower than its rate, never faster.
    const windowMs = 200;
    const inFirstWindow = at.filter((t) => t - first < windowMs).length;
    expect(inFirstWindow).toBeLessThanOrEqual(1 + (windowMs * rate) / 1000 + 1);
    expect(Math.max(...at) - first).toBeGreaterThanOrEqual(((n - 1) * 1000 * 0.85) / rate);
  });

  it("a client without a limiter makes its own from ratePerSecond", async () => {
    const c = new KlingClient({ baseUrl: sim.url, apiKey: sim.apiKey, ratePerSecond: 25 });
    clients.push(c);
    const { taskId } = await c.generate({ type: "o3-std-text-to-video", prompt: "p" });
    await Promise.all(Array.from({ length: 6 }, () => c.status(taskId)));
    const at = sim.requests.map((r) => r.at);
    expect(at).toHaveLength(7);
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThanOrEqual((6 * 1000 * 0.85) / 25);
  });
});
