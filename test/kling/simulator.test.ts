import { request } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cost } from "../../src/kling/pricing.js";
import { banner, parseSimArgs, runSimulatorCli, SimArgsError } from "../../src/kling-sim/cli.js";
import { type KlingSimulator, paddedVideo, startKlingSimulator } from "../../src/kling-sim/server.js";

/** The simulator over plain HTTP, as the real API would be called, without the client in between. */

const KEY = "sim-test-key-123";
let sim: KlingSimulator;
let others: KlingSimulator[] = [];

beforeEach(async () => {
  sim = await startKlingSimulator({ apiKey: KEY, taskDurationMs: 60_000, balance: 10_000 });
});
afterEach(async () => {
  await Promise.all([sim, ...others].map((s) => s.close()));
  others = [];
});

/** The shapes the simulator answers with, loosely: tests assert on them. */
interface SimBody {
  code: number;
  message: string;
  error: { code: string; message: string };
  data: { task_id: string; status: string; consumed_credits: number };
  balance?: number;
}

async function call(
  method: "GET" | "POST" | "DELETE" | "HEAD",
  path: string,
  body?: unknown,
  key: string | null = KEY,
): Promise<{ status: number; headers: Record<string, unknown>; json: SimBody; bytes: Buffer }> {
  const res = await request(`${sim.url}${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  let json = {} as SimBody;
  try {
    json = JSON.parse(bytes.toString("utf8")) as SimBody;
  } catch {
    // not JSON (videos, raw faults): tests read `bytes`
  }
  return { status: res.statusCode, headers: res.headers, json, bytes };
}

const generate = (body: unknown, key?: string | null) => call("POST", "/api/generate", body, key);

function expectError(res: { status: number; json: SimBody }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.json).toEqual({
    code: status,
    message: expect.stringMatching(new RegExp(`^${code}: .+`)),
    error: { code, message: expect.any(String) },
  });
  expect(res.json.message).toBe(`${code}: ${res.json.error.message}`);
}

/** Top-level MP4 boxes: [type, size]. */
function boxes(bytes: Buffer): [string, number][] {
  const out: [string, number][] = [];
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    let size = bytes.readUInt32BE(offset);
    const type = bytes.subarray(offset + 4, offset + 8).toString("latin1");
    if (size === 1) size = Number(bytes.readBigUInt64BE(offset + 8));
    if (size < 8) throw new Error(`bad box ${type} of size ${size}`);
    out.push([type, size]);
    offset += size;
  }
  expect(offset).toBe(bytes.length);
  return out;
}

describe("authentication", () => {
  it("refuses a missing or wrong key with 401 INVALID_API_KEY", async () => {
    expectError(await generate({ type: "pro-text-to-video", prompt: "p" }, null), 401, "INVALID_API_KEY");
    expectError(await generate({ type: "pro-text-to-video", prompt: "p" }, "nope"), 401, "INVALID_API_KEY");
    expectError(await call("GET", "/api/status?task_id=n75x", undefined, "nope"), 401, "INVALID_API_KEY");
    expect(sim.tasks.size).toBe(0);
  });

  it("records requests without the key", async () => {
    await generate({ type: "pro-text-to-video", prompt: "p" });
    expect(sim.requests[0]).toMatchObject({
      method: "POST",
      path: "/api/generate",
      route: "generate",
      authorized: true,
      body: { type: "pro-text-to-video", prompt: "p" },
    });
    expect(sim.requests[0]!.headers.authorization).toBe("Bearer [redacted]");
    expect(JSON.stringify(sim.requests)).not.toContain(KEY);
  });
});

describe("POST /api/generate validation", () => {
  const cases: [string, unknown, number, string][] = [
    ["unknown type", { type: "pro-text-to-audio", prompt: "p" }, 400, "INVALID_TYPE"],
    ["missing type", { prompt: "p" }, 400, "INVALID_TYPE"],
    ["empty prompt", { type: "pro-text-to-video", prompt: "  " }, 400, "INVALID_PROMPT"],
    ["missing prompt", { type: "pro-text-to-video" }, 400, "INVALID_PROMPT"],
    ["prompt over 2000", { type: "pro-text-to-video", prompt: "x".repeat(2001) }, 400, "INVALID_PROMPT"],
    ["duration 2", { type: "pro-text-to-video", prompt: "p", duration: 2 }, 400, "INVALID_DURATION"],
    ["duration 16", { type: "o3-std-text-to-video", prompt: "p", duration: 16 }, 400, "INVALID_DURATION"],
    ["duration 5.5", { type: "std-text-to-video", prompt: "p", duration: 5.5 }, 400, "INVALID_DURATION"],
    [
      "duration on an edit",
      { type: "o3-pro-video-edit", prompt: "p", video: "https://e.com/v.mp4", duration: 5 },
      400,
      "INVALID_DURATION",
    ],
    ["image-to-video without image", { type: "pro-image-to-video", prompt: "p" }, 400, "MISSING_IMAGE"],
    [
      "reference without images",
      { type: "o3-pro-reference-to-video", prompt: "p", images: [] },
      400,
      "MISSING_IMAGE",
    ],
    [
      "reference with 8 images",
      { type: "o3-std-reference-to-video", prompt: "p", images: Array(8).fill("https://e.com/a.jpg") },
      400,
      "INVALID_REQUEST",
    ],
    ["edit without video", { type: "o3-std-video-edit", prompt: "p" }, 400, "MISSING_VIDEO"],
    [
      "bad aspect ratio",
      { type: "pro-text-to-video", prompt: "p", aspect_ratio: "4:3" },
      400,
      "INVALID_REQUEST",
    ],
    ["not JSON", "{type:", 400, "INVALID_REQUEST"],
    ["a JSON array", [1], 400, "INVALID_REQUEST"],
  ];
  it.each(cases)("%s", async (_name, body, status, code) => {
    expectError(await generate(body), status, code);
    expect(sim.tasks.size).toBe(0);
    expect(sim.balance()).toBe(10_000);
  });

  it("accepts an edit with duration auto", async () => {
    const res = await generate({
      type: "o3-pro-video-edit",
      prompt: "p",
      video: "https://e.com/v.mp4",
      duration: "auto",
    });
    expect(res.status).toBe(200);
    expect(res.json.data.consumed_credits).toBe(435);
  });
});

describe("tasks", () => {
  it("creates n75 tasks for Kling 3.0 and n71 for O3, priced from the table, debiting the balance", async () => {
    const a = await generate({ type: "pro-text-to-video", prompt: "p", duration: 5, aspect_ratio: "16:9" });
    expect(a.status).toBe(200);
    expect(a.json).toEqual({
      code: 200,
      message: "success",
      data: {
        task_id: expect.stringMatching(/^n75[0-9a-f]+$/),
        status: "IN_PROGRESS",
        consumed_credits: 400,
      },
    });
    const b = await generate({
      type: "o3-std-reference-to-video",
      prompt: "p",
      images: ["https://e.com/a.jpg"],
      duration: 10,
    });
    expect(b.json.data.task_id).toMatch(/^n71/);
    expect(b.json.data.consumed_credits).toBe(cost("o3-std-reference-to-video", 10));
    const c = await generate({
      type: "std-image-to-video",
      prompt: "p",
      image: "https://e.com/a.jpg",
      sound: false,
      duration: 4,
    });
    expect(c.json.data.consumed_credits).toBe(160);
    expect(sim.balance()).toBe(10_000 - 400 - 200 - 160);
  });

  it("answers 402 INSUFFICIENT_CREDITS when the price exceeds the balance", async () => {
    sim.setBalance(1_199);
    expectError(
      await generate({ type: "pro-text-to-video", prompt: "p", duration: 15 }),
      402,
      "INSUFFICIENT_CREDITS",
    );
    expect(sim.balance()).toBe(1_199);
    sim.setBalance(1_200);
    expect((await generate({ type: "pro-text-to-video", prompt: "p", duration: 15 })).status).toBe(200);
    expect(sim.balance()).toBe(0);
  });

  it("reports IN_PROGRESS, then SUCCESS with a video URL of its own, after taskDurationMs", async () => {
    const quick = await startKlingSimulator({ apiKey: KEY, taskDurationMs: 50 });
    others.push(quick);
    const post = await request(`${quick.url}/api/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ type: "pro-text-to-video", prompt: "eagle", duration: 5, aspect_ratio: "16:9" }),
    });
    const id = ((await post.body.json()) as { data: { task_id: string } }).data.task_id;
    const read = async () => {
      const res = await request(`${quick.url}/api/status?task_id=${id}`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      return (await res.body.json()) as { data: Record<string, unknown> };
    };
    expect((await read()).data).toMatchObject({
      task_id: id,
      status: "IN_PROGRESS",
      response: [],
      error_message: null,
    });
    let data: Record<string, unknown> = {};
    for (let i = 0; i < 100 && data.status !== "SUCCESS"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      data = (await read()).data;
    }
    expect(data).toEqual({
      task_id: id,
      status: "SUCCESS",
      consumed_credits: 400,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      request: { type: "pro-text-to-video", prompt: "eagle", duration: 5, aspect_ratio: "16:9" },
      response: [`${quick.url}/videos/${id}.mp4`],
      error_message: null,
      type: "pro-text-to-video",
    });
  });

  it("ends in the outcome chosen per task, refunding failures", async () => {
    const custom = await startKlingSimulator({
      apiKey: KEY,
      balance: 1_000,
      outcome: (body) => (String(body.prompt).includes("boom") ? { failed: "exploded" } : undefined),
    });
    others.push(custom);
    const post = async (prompt: string) => {
      const res = await request(`${custom.url}/api/generate`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ type: "o3-std-text-to-video", prompt }),
      });
      return ((await res.body.json()) as { data: { task_id: string } }).data.task_id;
    };
    const boom = await post("boom");
    const expire = await post("x [expire]");
    expect(custom.balance()).toBe(1_000 - 180 - 180);
    custom.finish(boom);
    custom.finish(expire);
    expect(custom.tasks.get(boom)!.end).toMatchObject({ status: "FAILED", errorMessage: "exploded" });
    expect(custom.tasks.get(expire)!.end).toMatchObject({
      status: "EXPIRED",
      failedReason: "The task expired.",
    });
    expect(custom.balance()).toBe(1_000);
  });

  it("keeps the charge of a task failed with [fail-charged]: consumed_credits stays the price", async () => {
    const created = await generate({ type: "pro-text-to-video", prompt: "x [fail-charged]" });
    const id = created.json.data.task_id;
    sim.finish(id);
    const status = await call("GET", `/api/status?task_id=${id}`);
    expect(status.json.data).toMatchObject({ status: "FAILED", consumed_credits: 400 });
    expect(sim.balance()).toBe(10_000 - 400);
    // A plain [fail] is refunded as before.
    const plain = await generate({ type: "pro-text-to-video", prompt: "x [fail]" });
    sim.finish(plain.json.data.task_id);
    const refunded = await call("GET", `/api/status?task_id=${plain.json.data.task_id}`);
    expect(refunded.json.data).toMatchObject({ status: "FAILED", consumed_credits: 0 });
    expect(sim.balance()).toBe(10_000 - 400);
  });

  it("routes status by prefix and answers unknown ids with 404 TASK_NOT_FOUND", async () => {
    expectError(await call("GET", "/api/status?task_id=abc"), 404, "TASK_NOT_FOUND");
    expectError(await call("GET", "/api/status?task_id=n75nothere"), 404, "TASK_NOT_FOUND");
    expectError(await call("GET", "/api/status"), 400, "INVALID_REQUEST");
    expectError(await call("POST", "/api/status?task_id=n75x", {}), 405, "METHOD_NOT_ALLOWED");
    expectError(await call("GET", "/api/elsewhere"), 404, "NOT_FOUND");
  });
});

describe("videos", () => {
  it("serves a real MP4 with ftyp and moov boxes", async () => {
    const { json } = await generate({ type: "pro-text-to-video", prompt: "p" });
    const res = await call("GET", `/videos/${json.data.task_id}.mp4`, undefined, null);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("video/mp4");
    const types = boxes(res.bytes).map(([t]) => t);
    expect(types.slice(0, 2)).toEqual(["ftyp", "moov"]);
    expect(types).toContain("mdat");
    expect((await call("GET", "/videos/n75unknown.mp4", undefined, null)).status).toBe(404);
  });

  it("pads to the requested size with a trailing free box", async () => {
    const big = await startKlingSimulator({ videoBytes: 3 * 1024 * 1024 + 5 });
    others.push(big);
    const res = await request(`${big.url}/videos/sample.mp4`);
    const bytes = Buffer.from(await res.body.arrayBuffer());
    expect(bytes.length).toBe(3 * 1024 * 1024 + 5);
    expect(res.headers["content-length"]).toBe(String(3 * 1024 * 1024 + 5));
    const found = boxes(bytes);
    expect(found.map(([t]) => t).slice(0, 2)).toEqual(["ftyp", "moov"]);
    expect(found.at(-1)![0]).toBe("free");

    const head = await request(`${big.url}/videos/sample.mp4`, { method: "HEAD" });
    await head.body.dump();
    expect(head.headers["content-length"]).toBe(String(3 * 1024 * 1024 + 5));
  });

  it("never pads below the sample, and uses a 64-bit box header past 4 GiB", () => {
    const small = paddedVideo(10);
    expect(small.length).toBeGreaterThan(1_000);
    expect(paddedVideo(small.length + 3).length).toBe(small.length + 8);
    expect(paddedVideo(5 * 1024 ** 3).length).toBe(5 * 1024 ** 3);
  });
});

describe("faults", () => {
  it("answers 429 with Retry-After the given number of times, on the given route only", async () => {
    sim.inject({ route: "generate", kind: "rate-limit", retryAfter: 3, times: 2 });
    const body = { type: "pro-text-to-video", prompt: "p" };
    expect((await call("GET", "/api/status?task_id=n75x")).status).toBe(404);
    for (let i = 0; i < 2; i++) {
      const res = await generate(body);
      expectError(res, 429, "RATE_LIMITED");
      expect(res.headers["retry-after"]).toBe("3");
    }
    expect((await generate(body)).status).toBe(200);
    expect(sim.requests.map((r) => r.fault)).toEqual([undefined, "rate-limit", "rate-limit", undefined]);
  });

  it("answers 500 INTERNAL_ERROR, and a malformed body", async () => {
    sim.inject({ route: "status", kind: "error" });
    expectError(await call("GET", "/api/status?task_id=n75x"), 500, "INTERNAL_ERROR");
    sim.inject({
      route: "status",
      kind: "malformed",
      body: "<html>oops</html>",
      contentType: "text/html",
      status: 200,
    });
    const res = await call("GET", "/api/status?task_id=n75x");
    expect(res.status).toBe(200);
    expect(res.bytes.toString()).toBe("<html>oops</html>");
  });

  it("delays an answer but does the work at once", async () => {
    sim.inject({ route: "generate", kind: "delay", ms: 150 });
    const pending = generate({ type: "pro-text-to-video", prompt: "p" });
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.tasks.size).toBe(1);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(sim.tasks.has(res.json.data.task_id)).toBe(true);
  });

  it("resets the connection without acting on the request", async () => {
    sim.inject({ route: "generate", kind: "reset" });
    await expect(generate({ type: "pro-text-to-video", prompt: "p" })).rejects.toThrow();
    expect(sim.tasks.size).toBe(0);
    expect(sim.requests).toHaveLength(1);
  });
});

describe("control endpoints", () => {
  it("steer the balance, faults and tasks, and list requests", async () => {
    expect((await call("POST", "/_sim/balance", { balance: 500 }, null)).json).toEqual({ balance: 500 });
    expect(sim.balance()).toBe(500);
    expect((await call("POST", "/_sim/balance", { balance: -1 }, null)).status).toBe(400);

    expect((await call("POST", "/_sim/fail-next", { route: "generate", status: 503 }, null)).status).toBe(
      200,
    );
    expectError(await generate({ type: "o3-std-text-to-video", prompt: "p" }), 503, "INTERNAL_ERROR");
    expect((await call("POST", "/_sim/fail-next", { kind: "explode" }, null)).status).toBe(400);

    const ok = await generate({ type: "o3-std-text-to-video", prompt: "p" });
    const id = ok.json.data.task_id;
    expect((await call("POST", "/_sim/finish", { task_id: id, outcome: "expired" }, null)).status).toBe(200);
    expect((await call("GET", `/api/status?task_id=${id}`)).json.data.status).toBe("EXPIRED");
    expect((await call("GET", "/_sim/balance", undefined, null)).json).toEqual({ balance: 500 });

    const listed = await call("GET", "/_sim/requests", undefined, null);
    expect((listed.json as unknown as { route: string }[]).map((r) => r.route)).toEqual([
      "generate",
      "generate",
      "status",
    ]);
    expect((await call("GET", "/_sim/tasks", undefined, null)).json).toHaveLength(1);
    await call("DELETE", "/_sim/requests", undefined, null);
    expect(sim.requests).toHaveLength(0);
  });
});

describe("command line", () => {
  it("parses flags with defaults", () => {
    expect(parseSimArgs([])).toMatchObject({
      port: 8787,
      host: "127.0.0.1",
      apiKey: "sim-key",
      taskDurationMs: 20_000,
      balance: 100_000,
      quiet: false,
    });
    expect(
      parseSimArgs(["--port", "0", "--api-key", "k", "--task-ms", "50", "--balance", "7"]),
    ).toMatchObject({
      port: 0,
      apiKey: "k",
      taskDurationMs: 50,
      balance: 7,
    });
    expect(() => parseSimArgs(["--port", "x"])).toThrow(SimArgsError);
    expect(() => parseSimArgs(["--bogus"])).toThrow(SimArgsError);
  });

  it("starts and tells the operator how to point the bot at it", async () => {
    const lines: string[] = [];
    const started = await runSimulatorCli(["--port", "0", "--api-key", "cli-key", "--quiet"], (l) =>
      lines.push(l),
    );
    others.push(started!);
    const text = lines.join("\n");
    expect(text).toContain(`KLING_API_URL=${started!.url}`);
    expect(text).toContain("KLING_API_KEY=cli-key");
    expect(banner(started!, parseSimArgs([]))).toContain("pro-text-to-video");
    const res = await request(`${started!.url}/_sim/health`);
    expect(await res.body.json()).toEqual({ ok: true });
  });
});
