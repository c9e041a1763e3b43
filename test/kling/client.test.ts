import { request } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KlingClient, type KlingClientOptions } from "../../src/kling/client.js";
import {
  KlingAuthError,
  KlingCancelledError,
  KlingError,
  KlingInsufficientCreditsError,
  KlingNetworkError,
  KlingRateLimitError,
  KlingRequestError,
  KlingResponseError,
  KlingServerError,
  KlingTimeoutError,
} from "../../src/kling/errors.js";
import { cost } from "../../src/kling/pricing.js";
import type { GenerateRequest } from "../../src/kling/types.js";
import { type KlingSimulator, startKlingSimulator } from "../../src/kling-sim/server.js";
import { captureLogger, refusedPort } from "./helpers.js";

const KEY = "sk-test-0123456789abcdef";
const IMG = "https://example.com/a.jpg";
const IMG2 = "https://example.com/b.jpg";
const VID = "https://example.com/v.mp4";

let sim: KlingSimulator;
let extraSims: KlingSimulator[] = [];
let clients: KlingClient[] = [];

function client(options: Partial<KlingClientOptions> = {}): KlingClient {
  const c = new KlingClient({
    baseUrl: sim.url,
    apiKey: KEY,
    timeoutMs: 2_000,
    maxRetries: 3,
    ratePerSecond: 1_000,
    backoffBaseMs: 5,
    backoffCapMs: 20,
    ...options,
  });
  clients.push(c);
  return c;
}

/** Records the delays the client asks for and waits for none of them (the HTTP stays real). */
function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
}

async function caught(promise: Promise<unknown>): Promise<KlingError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(KlingError);
    const e = err as KlingError;
    expect(e.message).not.toContain(KEY);
    expect(e.serverMessage ?? "").not.toContain(KEY);
    return e;
  }
  throw new Error("expected the call to fail");
}

const TEXT: GenerateRequest = {
  type: "pro-text-to-video",
  prompt: "A cinematic shot of mountains",
  duration: 5,
};

beforeEach(async () => {
  // Tasks stay IN_PROGRESS unless a test finishes them.
  sim = await startKlingSimulator({ apiKey: KEY, taskDurationMs: 60_000 });
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([sim, ...extraSims].map((s) => s.close()));
  clients = [];
  extraSims = [];
});

describe("generate sends the documented request for each task type", () => {
  const cases: [GenerateRequest, Record<string, unknown>][] = [
    [
      {
        type: "pro-text-to-video",
        prompt: "A majestic eagle",
        duration: 5,
        aspectRatio: "16:9",
        sound: true,
        negativePrompt: "blurry",
        promptFidelity: 0.5,
      },
      {
        type: "pro-text-to-video",
        prompt: "A majestic eagle",
        duration: 5,
        aspect_ratio: "16:9",
        sound: true,
        negative_prompt: "blurry",
        cfg_scale: 0.5,
      },
    ],
    [
      {
        type: "pro-image-to-video",
        prompt: "Turns and smiles",
        image: IMG,
        endImage: IMG2,
        duration: 10,
        sound: false,
      },
      {
        type: "pro-image-to-video",
        prompt: "Turns and smiles",
        image: IMG,
        image_tail: IMG2,
        duration: 10,
        sound: false,
      },
    ],
    [
      { type: "std-text-to-video", prompt: "Rain", duration: 3, aspectRatio: "1:1" },
      { type: "std-text-to-video", prompt: "Rain", duration: 3, aspect_ratio: "1:1" },
    ],
    [
      { type: "std-image-to-video", prompt: "Wind", image: IMG, aspectRatio: "9:16", promptFidelity: 1 },
      { type: "std-image-to-video", prompt: "Wind", image: IMG, aspect_ratio: "9:16", cfg_scale: 1 },
    ],
    [
      { type: "o3-pro-text-to-video", prompt: "City", duration: 15, negativePrompt: "text" },
      { type: "o3-pro-text-to-video", prompt: "City", duration: 15, negative_prompt: "text" },
    ],
    [
      { type: "o3-pro-image-to-video", prompt: "Zoom", image: IMG, endImage: IMG2 },
      { type: "o3-pro-image-to-video", prompt: "Zoom", image: IMG, image_tail: IMG2 },
    ],
    [
      {
        type: "o3-pro-reference-to-video",
        prompt: "Walks",
        images: [IMG, IMG2],
        video: VID,
        duration: 5,
        aspectRatio: "16:9",
      },
      {
        type: "o3-pro-reference-to-video",
        prompt: "Walks",
        images: [IMG, IMG2],
        video: VID,
        duration: 5,
        aspect_ratio: "16:9",
      },
    ],
    [
      { type: "o3-pro-video-edit", prompt: "Snowy background", video: VID, keepOriginalSound: true },
      { type: "o3-pro-video-edit", prompt: "Snowy background", video: VID, keep_original_sound: true },
    ],
    [
      { type: "o3-std-text-to-video", prompt: "Only a prompt" },
      { type: "o3-std-text-to-video", prompt: "Only a prompt" },
    ],
    [
      { type: "o3-std-image-to-video", prompt: "Pan", image: IMG, duration: 8 },
      { type: "o3-std-image-to-video", prompt: "Pan", image: IMG, duration: 8 },
    ],
    [
      { type: "o3-std-reference-to-video", prompt: "Seven", images: Array(7).fill(IMG) },
      { type: "o3-std-reference-to-video", prompt: "Seven", images: Array(7).fill(IMG) },
    ],
    [
      { type: "o3-std-video-edit", prompt: "Night", video: VID, keepOriginalSound: false },
      { type: "o3-std-video-edit", prompt: "Night", video: VID, keep_original_sound: false },
    ],
  ];

  it.each(cases)("%o", async (req, wire) => {
    const result = await client().generate(req);
    expect(sim.requests).toHaveLength(1);
    const received = sim.requests[0]!;
    expect(received.method).toBe("POST");
    expect(received.path).toBe("/api/generate");
    expect(received.authorized).toBe(true);
    expect(received.headers.authorization).toBe("Bearer [redacted]");
    expect(received.headers["content-type"]).toBe("application/json");
    expect(received.body).toEqual(wire);
    expect(result.taskId).toMatch(req.type.startsWith("o3-") ? /^n71/ : /^n75/);
    expect(result.status).toEqual({
      state: "running",
      taskId: result.taskId,
      rawStatus: "IN_PROGRESS",
      consumedCredits: cost(req.type, req.duration, req.sound),
    });
  });
});

describe("errors", () => {
  it("INVALID_REQUEST: invalid input is refused before any HTTP call", async () => {
    const e = await caught(client().generate({ type: "pro-image-to-video", prompt: "" }));
    expect(e).toBeInstanceOf(KlingRequestError);
    expect(e.code).toBe("INVALID_REQUEST");
    expect((e as KlingRequestError).problems).toHaveLength(2);
    expect(sim.requests).toHaveLength(0);
  });

  it("INVALID_API_KEY: a wrong key is an auth error, not retried, and never echoed", async () => {
    const wrong = "sk-wrong-key-9876543210";
    const e = await caught(client({ apiKey: wrong }).generate(TEXT));
    expect(e).toBeInstanceOf(KlingAuthError);
    expect(e).toMatchObject({
      code: "INVALID_API_KEY",
      httpStatus: 401,
      retryable: false,
      maybeSubmitted: false,
    });
    expect(e.message).not.toContain(wrong);
    expect(sim.requests).toHaveLength(1);
    expect(sim.requests[0]!.authorized).toBe(false);
  });

  it("INSUFFICIENT_CREDITS: the account balance is below the price", async () => {
    sim.setBalance(399);
    const e = await caught(client().generate({ ...TEXT, sound: true }));
    expect(e).toBeInstanceOf(KlingInsufficientCreditsError);
    expect(e).toMatchObject({
      code: "INSUFFICIENT_CREDITS",
      httpStatus: 402,
      retryable: false,
      maybeSubmitted: false,
    });
    expect(sim.balance()).toBe(399);
    expect(sim.requests).toHaveLength(1);
  });

  it.each(["INVALID_PROMPT", "INVALID_DURATION", "INVALID_TYPE", "MISSING_IMAGE", "MISSING_VIDEO"] as const)(
    "%s: a 400 with that code is a request error, not retried",
    async (code) => {
      sim.inject({ route: "generate", kind: "error", status: 400, code, message: "server says no" });
      const e = await caught(client().generate(TEXT));
      expect(e).toBeInstanceOf(KlingRequestError);
      expect(e).toMatchObject({ code, httpStatus: 400, retryable: false, maybeSubmitted: false });
      expect(e.serverMessage).toBe("server says no");
      expect(sim.requests).toHaveLength(1);
    },
  );

  it("RATE_LIMITED: a 429 with retries exhausted carries Retry-After", async () => {
    sim.inject({ route: "status", kind: "rate-limit", retryAfter: 7 });
    const { id } = await created();
    const e = await caught(client({ maxRetries: 0 }).status(id));
    expect(e).toBeInstanceOf(KlingRateLimitError);
    expect(e).toMatchObject({ code: "RATE_LIMITED", httpStatus: 429, retryable: true, retryAfterMs: 7_000 });
  });

  it("INTERNAL_ERROR: a 500 on a status read is a retryable server error", async () => {
    const { id } = await created();
    sim.inject({ route: "status", kind: "error", status: 500 });
    const e = await caught(client({ maxRetries: 0 }).status(id));
    expect(e).toBeInstanceOf(KlingServerError);
    expect(e).toMatchObject({
      code: "INTERNAL_ERROR",
      httpStatus: 500,
      retryable: true,
      maybeSubmitted: false,
    });
  });

  it("BAD_RESPONSE: a truncated JSON body", async () => {
    const { id } = await created();
    sim.inject({ route: "status", kind: "malformed" });
    const e = await caught(client().status(id));
    expect(e).toBeInstanceOf(KlingResponseError);
    expect(e).toMatchObject({ code: "BAD_RESPONSE", retryable: false });
    expect(e.message).toMatch(/not JSON/);

    sim.inject({ route: "generate", kind: "malformed" });
    const g = await caught(client().generate(TEXT));
    expect(g).toMatchObject({ code: "BAD_RESPONSE", maybeSubmitted: true, retryable: false });
  });

  it("a task id the API does not know is a request error (404), not retried", async () => {
    const e = await caught(client().status("n75doesnotexist"));
    expect(e).toBeInstanceOf(KlingRequestError);
    expect(e).toMatchObject({ code: "INVALID_REQUEST", httpStatus: 404, serverCode: "TASK_NOT_FOUND" });
    expect(sim.requestsTo("status")).toHaveLength(1);
  });
});

async function created(req: GenerateRequest = TEXT): Promise<{ id: string }> {
  const { taskId } = await client().generate(req);
  return { id: taskId };
}

describe("retries", () => {
  it("generate waits out a 429's Retry-After, then succeeds", async () => {
    sim.inject({ route: "generate", kind: "rate-limit", retryAfter: 1 });
    const result = await client().generate(TEXT);
    const hits = sim.requestsTo("generate");
    expect(hits).toHaveLength(2);
    expect(hits[0]!.fault).toBe("rate-limit");
    // Lower bound only: the retry may come later than asked, never earlier.
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(950);
    expect(result.taskId).toMatch(/^n75/);
    expect(sim.tasks.size).toBe(1);
  });

  it("status honours a Retry-After given as an HTTP date", async () => {
    const { id } = await created();
    const now = Date.parse("2026-02-05T10:30:00Z");
    sim.inject({ route: "status", kind: "rate-limit", retryAfter: new Date(now + 3_000).toUTCString() });
    const rec = recordingSleep();
    const status = await client({ sleep: rec.sleep, now: () => now }).status(id);
    expect(status.state).toBe("running");
    expect(rec.delays).toEqual([3_000]);
    expect(sim.requestsTo("status")).toHaveLength(2);
  });

  it("does not wait for a Retry-After longer than maxRetryAfterMs", async () => {
    const { id } = await created();
    sim.inject({ route: "status", kind: "rate-limit", retryAfter: 120 });
    const rec = recordingSleep();
    const e = await caught(client({ sleep: rec.sleep, maxRetryAfterMs: 60_000 }).status(id));
    expect(e).toMatchObject({ code: "RATE_LIMITED", retryAfterMs: 120_000 });
    expect(rec.delays).toEqual([]);
  });

  it("status retries 5xx with capped exponential backoff, and honours Retry-After on a 503", async () => {
    const { id } = await created();
    sim.inject({ route: "status", kind: "error", status: 500, times: 3 });
    sim.inject({ route: "status", kind: "error", status: 503, retryAfter: 2 });
    const rec = recordingSleep();
    const c = client({
      sleep: rec.sleep,
      random: () => 1,
      backoffBaseMs: 10,
      backoffCapMs: 25,
      maxRetries: 4,
    });
    expect((await c.status(id)).state).toBe("running");
    expect(rec.delays).toEqual([10, 20, 25, 2_000]);
    expect(sim.requestsTo("status")).toHaveLength(5);
  });

  it("status gives up after maxRetries", async () => {
    const { id } = await created();
    sim.inject({ route: "status", kind: "error", status: 502, times: 10 });
    const e = await caught(client({ maxRetries: 2 }).status(id));
    expect(e).toMatchObject({ code: "INTERNAL_ERROR", httpStatus: 502 });
    expect(sim.requestsTo("status")).toHaveLength(3);
  });

  it("generate is tried again after the API's own 500 INTERNAL_ERROR, which made no task", async () => {
    sim.inject({ route: "generate", kind: "error", status: 500, times: 2 });
    const { taskId } = await client().generate(TEXT);
    expect(taskId).toBeTruthy();
    expect(sim.requestsTo("generate")).toHaveLength(3);
    expect(sim.tasks.size).toBe(1);
  });

  it("generate is never retried after another 5xx (a gateway's answer): the task may exist", async () => {
    sim.inject({ route: "generate", kind: "error", status: 502, times: 3 });
    const e = await caught(client().generate(TEXT));
    expect(e).toBeInstanceOf(KlingServerError);
    expect(e).toMatchObject({ code: "INTERNAL_ERROR", maybeSubmitted: true, retryable: false });
    expect(sim.requestsTo("generate")).toHaveLength(1);
  });

  it("generate with retry: false makes one attempt and leaves the retry to the caller", async () => {
    sim.inject({ route: "generate", kind: "error", status: 500, times: 1 });
    const e = await caught(client().generate(TEXT, { retry: false }));
    expect(e).toMatchObject({ code: "INTERNAL_ERROR", maybeSubmitted: false, retryable: true });
    expect(sim.requestsTo("generate")).toHaveLength(1);
  });

  it("generate runs beforeSend once, with the token in hand, and sends nothing when it throws", async () => {
    let calls = 0;
    await client().generate(TEXT, {
      beforeSend: async () => {
        calls += 1;
        expect(sim.requestsTo("generate")).toHaveLength(0);
      },
    });
    expect(calls).toBe(1);
    await expect(
      client().generate(TEXT, {
        beforeSend: async () => {
          throw new Error("moved on");
        },
      }),
    ).rejects.toThrow("moved on");
    expect(sim.requestsTo("generate")).toHaveLength(1);
  });

  it("generate is never retried after it timed out once sent", async () => {
    sim.inject({ route: "generate", kind: "delay", ms: 2_000 });
    const e = await caught(client({ timeoutMs: 300 }).generate(TEXT));
    expect(e).toBeInstanceOf(KlingTimeoutError);
    expect(e).toMatchObject({ code: "TIMEOUT", maybeSubmitted: true, retryable: false });
    expect(e.message).toMatch(/after the request was sent/);
    expect(sim.requestsTo("generate")).toHaveLength(1);
    // Why it must not be retried: the server did create (and charge for) the task.
    expect(sim.tasks.size).toBe(1);
  });

  it("generate is never retried after the connection was reset once sent", async () => {
    sim.inject({ route: "generate", kind: "reset" });
    const e = await caught(client().generate(TEXT));
    expect(e).toBeInstanceOf(KlingNetworkError);
    expect(e).toMatchObject({ code: "NETWORK_ERROR", maybeSubmitted: true, retryable: false });
    expect(sim.requestsTo("generate")).toHaveLength(1);
  });

  it("generate is retried when the connection was refused (it never reached the server)", async () => {
    const port = await refusedPort();
    let late: KlingSimulator | undefined;
    const delays: number[] = [];
    const c = client({
      baseUrl: `http://127.0.0.1:${port}`,
      // The server comes up during the first backoff.
      sleep: async (ms) => {
        delays.push(ms);
        late ??= await startKlingSimulator({ apiKey: KEY, port });
        extraSims.push(late);
      },
    });
    const result = await c.generate(TEXT);
    expect(result.taskId).toMatch(/^n75/);
    expect(delays).toHaveLength(1);
    expect(late!.requestsTo("generate")).toHaveLength(1);
  });

  it("a refused connection that stays refused ends in NETWORK_ERROR, not submitted", async () => {
    const port = await refusedPort();
    const rec = recordingSleep();
    const e = await caught(
      client({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 2, sleep: rec.sleep }).generate(TEXT),
    );
    expect(e).toBeInstanceOf(KlingNetworkError);
    expect(e).toMatchObject({ code: "NETWORK_ERROR", maybeSubmitted: false, retryable: true });
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.message).toMatch(/before the request was sent/);
    expect(rec.delays).toHaveLength(2);
  });

  it("status retries a reset and a timeout", async () => {
    const { id } = await created();
    sim.inject({ route: "status", kind: "reset" });
    sim.inject({ route: "status", kind: "hang" });
    const status = await client({ timeoutMs: 300 }).status(id);
    expect(status.state).toBe("running");
    expect(sim.requestsTo("status").map((r) => r.fault)).toEqual(["reset", "hang", undefined]);
  });

  it("status ends in TIMEOUT when every attempt times out", async () => {
    const { id } = await created();
    sim.inject({ route: "status", kind: "hang", times: 5 });
    const e = await caught(client({ timeoutMs: 200, maxRetries: 1 }).status(id));
    expect(e).toBeInstanceOf(KlingTimeoutError);
    expect(e).toMatchObject({ code: "TIMEOUT", maybeSubmitted: false, retryable: true });
    expect(sim.requestsTo("status")).toHaveLength(2);
  });
});

describe("cancellation", () => {
  it("an aborted status read rejects with KlingCancelledError", async () => {
    const { id } = await created();
    sim.inject({ route: "status", kind: "hang" });
    const controller = new AbortController();
    const pending = client({ timeoutMs: 10_000 }).status(id, controller.signal);
    setTimeout(() => controller.abort(), 50);
    const e = await caught(pending);
    expect(e).toBeInstanceOf(KlingCancelledError);
    expect(e).toMatchObject({ code: "UNKNOWN_ERROR", retryable: false, maybeSubmitted: false });
  });

  it("a generate aborted in flight may have been submitted; one aborted before sending was not", async () => {
    sim.inject({ route: "generate", kind: "hang" });
    const controller = new AbortController();
    const pending = client({ timeoutMs: 10_000 }).generate(TEXT, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await caught(pending)).toMatchObject({ maybeSubmitted: true });

    const e = await caught(client().generate(TEXT, { signal: AbortSignal.abort() }));
    expect(e).toBeInstanceOf(KlingCancelledError);
    expect(e.maybeSubmitted).toBe(false);
    expect(sim.requestsTo("generate")).toHaveLength(1);
  });
});

describe("status normalisation", () => {
  async function finished(prompt: string): Promise<string> {
    const { id } = await created({ ...TEXT, prompt });
    sim.finish(id);
    return id;
  }

  it("IN_PROGRESS is running", async () => {
    const { id } = await created();
    expect(await client().status(id)).toEqual({
      state: "running",
      taskId: id,
      rawStatus: "IN_PROGRESS",
      consumedCredits: 400,
    });
    expect(sim.requestsTo("status")[0]!.query).toEqual({ task_id: id });
  });

  it("SUCCESS is succeeded with data.response[0], and the video downloads", async () => {
    const id = await finished("eagle");
    const status = await client().status(id);
    expect(status).toEqual({
      state: "succeeded",
      taskId: id,
      videoUrl: sim.videoUrl(id),
      consumedCredits: 400,
    });
    const video = await request(status.state === "succeeded" ? status.videoUrl : "");
    expect(video.statusCode).toBe(200);
    expect(video.headers["content-type"]).toBe("video/mp4");
    const bytes = Buffer.from(await video.body.arrayBuffer());
    expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
  });

  it("COMPLETED is succeeded", async () => {
    const id = await finished("eagle [completed]");
    expect(await client().status(id)).toMatchObject({ state: "succeeded", videoUrl: sim.videoUrl(id) });
  });

  it("FAILED is failed with error_message, or with failed_reason", async () => {
    const a = await finished("x [fail]");
    expect(await client().status(a)).toEqual({
      state: "failed",
      taskId: a,
      rawStatus: "FAILED",
      reason: "Simulated failure: the prompt contains [fail].",
      consumedCredits: 0,
    });
    const b = await finished("x [fail-reason]");
    expect(await client().status(b)).toMatchObject({
      state: "failed",
      reason: "Simulated failure reported in failed_reason.",
    });
  });

  it("EXPIRED is failed", async () => {
    const id = await finished("x [expire]");
    expect(await client().status(id)).toMatchObject({ state: "failed", reason: "The task expired." });
  });

  it("an unknown status is running, with one warning", async () => {
    const log = captureLogger("warn");
    const id = await finished("x [unknown-status]");
    const c = client({ logger: log.logger });
    expect(await c.status(id)).toEqual({
      state: "running",
      taskId: id,
      rawStatus: "MYSTERY_STATE",
      consumedCredits: 400,
    });
    await c.status(id);
    const warnings = log.records.filter((r) => String(r.msg).includes("unknown task status"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ rawStatus: "MYSTERY_STATE", taskId: id });
  });

  it("a success without a usable video URL is reported as unusable, not as an error to poll again", async () => {
    const id = await finished("x [no-url]");
    const status = await client().status(id);
    expect(status).toMatchObject({ state: "unusable", taskId: id });
  });

  it.each([
    ["an empty string", [""]],
    ["not a URL", ["not a url"]],
    ["a file: URL", ["file:///etc/passwd"]],
    ["a javascript: URL", ["javascript:alert(1)"]],
    ["a number", [42]],
  ])("a success whose response is %s is unusable", async (_label, response) => {
    const id = await finished("x [no-url]");
    sim.inject({
      route: "status",
      kind: "malformed",
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({
        code: 200,
        message: "success",
        data: { task_id: id, status: "SUCCESS", consumed_credits: 400, response },
      }),
    });
    expect(await client().status(id)).toMatchObject({ state: "unusable", taskId: id, consumedCredits: 400 });
  });
});

describe("logging", () => {
  it("logs method, path, status and duration of each call, never the key", async () => {
    const log = captureLogger("debug");
    const c = client({ logger: log.logger });
    const { taskId } = await c.generate(TEXT);
    await c.status(taskId);
    sim.inject({ route: "status", kind: "error", status: 500 });
    await c.status(taskId);
    const calls = log.records.filter((r) => r.msg === "Kling call");
    expect(calls.map((r) => [r.method, r.status])).toEqual([
      ["POST", 200],
      ["GET", 200],
      ["GET", 500],
      ["GET", 200],
    ]);
    expect(calls[0]).toMatchObject({ path: "/api/generate" });
    expect(calls[1]!.path).toBe(`/api/status?task_id=${taskId}`);
    for (const c of calls) expect(typeof c.durationMs).toBe("number");
    expect(log.records.some((r) => r.msg === "Kling call failed; retrying")).toBe(true);
    expect(log.text()).not.toContain(KEY);
  });
});
