import type { IncomingMessage, ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { KlingClient } from "../../src/kling/client.js";
import {
  KlingAuthError,
  KlingError,
  type KlingErrorCode,
  KlingInsufficientCreditsError,
  KlingRequestError,
  KlingResponseError,
  KlingServerError,
  KlingTimeoutError,
  parseErrorBody,
} from "../../src/kling/errors.js";
import { type AdHocServer, json, startAdHocServer } from "./helpers.js";

/**
 * Answers the simulator never gives (other error-body shapes, HTML, empty and oversized bodies, odd status words),
 * served by a tiny loopback server so the client still meets them over real HTTP.
 */

const KEY = "sk-bodies-abcdef0123456789";
const TEXT = { type: "pro-text-to-video", prompt: "eagle", duration: 5 } as const;

let servers: AdHocServer[] = [];
let clients: KlingClient[] = [];

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
  timeoutMs = 1_000,
): Promise<KlingClient> {
  const server = await startAdHocServer(handler);
  servers.push(server);
  const client = new KlingClient({
    baseUrl: server.url,
    apiKey: KEY,
    timeoutMs,
    maxRetries: 0,
    ratePerSecond: 1_000,
  });
  clients.push(client);
  return client;
}

function raw(status: number, body: string, contentType?: string) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, contentType ? { "content-type": contentType } : {});
    res.end(body);
  };
}

async function caught(promise: Promise<unknown>): Promise<KlingError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(KlingError);
    return err as KlingError;
  }
  throw new Error("expected the call to fail");
}

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  clients = [];
});

describe("error bodies of any shape give a clear typed error", () => {
  const cases: [string, number, string, string | undefined, KlingErrorCode, string | undefined][] = [
    [
      "{code, message}",
      400,
      '{"code":"INVALID_PROMPT","message":"bad words"}',
      "application/json",
      "INVALID_PROMPT",
      "bad words",
    ],
    [
      "{error:{code,message}}",
      400,
      '{"error":{"code":"MISSING_IMAGE","message":"no image"}}',
      "application/json",
      "MISSING_IMAGE",
      "no image",
    ],
    [
      "{code:400, message:'CODE: …'}",
      400,
      '{"code":400,"message":"INVALID_DURATION: 20 is too long"}',
      "application/json",
      "INVALID_DURATION",
      "20 is too long",
    ],
    ["{error:'…'}", 400, '{"error":"Something odd"}', "application/json", "INVALID_REQUEST", "Something odd"],
    ["plain text code", 400, "INVALID_TYPE", "text/plain", "INVALID_TYPE", undefined],
    ["plain text sentence", 418, "I'm a teapot", "text/plain", "INVALID_REQUEST", "I'm a teapot"],
    ["empty 401", 401, "", undefined, "INVALID_API_KEY", undefined],
    [
      "403 with a message",
      403,
      '{"message":"Forbidden"}',
      "application/json",
      "INVALID_API_KEY",
      "Forbidden",
    ],
    [
      "HTML 402",
      402,
      "<html><body>Payment Required</body></html>",
      "text/html",
      "INSUFFICIENT_CREDITS",
      "an HTML page",
    ],
    [
      "404 with an unknown code",
      404,
      '{"code":"NOT_FOUND"}',
      "application/json",
      "INVALID_REQUEST",
      undefined,
    ],
    [
      "JSON string body",
      400,
      '"MISSING_VIDEO: where is it"',
      "application/json",
      "MISSING_VIDEO",
      "where is it",
    ],
    [
      "200 with an error envelope",
      200,
      '{"code":402,"message":"INSUFFICIENT_CREDITS: top up"}',
      "application/json",
      "INSUFFICIENT_CREDITS",
      "top up",
    ],
    [
      "200 with a string error code",
      200,
      '{"code":"INVALID_PROMPT","message":"nope"}',
      "application/json",
      "INVALID_PROMPT",
      "nope",
    ],
    ["redirect", 302, "", undefined, "BAD_RESPONSE", undefined],
  ];

  it.each(cases)("%s", async (_name, status, body, contentType, code, serverMessage) => {
    const client = await serve(raw(status, body, contentType));
    const e = await caught(client.status("n75abc"));
    expect(e.code).toBe(code);
    expect(e.httpStatus).toBe(status);
    if (serverMessage !== undefined) expect(e.serverMessage).toBe(serverMessage);
    expect(e.message).toContain(`HTTP ${status}`);
  });

  it("an HTML 502 from a proxy is a server error naming the page, maybe submitted for generate", async () => {
    const client = await serve(
      raw(
        502,
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        "text/html",
      ),
    );
    const e = await caught(client.generate(TEXT));
    expect(e).toBeInstanceOf(KlingServerError);
    expect(e).toMatchObject({ code: "INTERNAL_ERROR", maybeSubmitted: true, retryable: false });
    expect(e.message).toContain("502 Bad Gateway");
  });

  it("an empty 500 is a server error", async () => {
    const client = await serve(raw(500, ""));
    const e = await caught(client.status("n71abc"));
    expect(e).toBeInstanceOf(KlingServerError);
    expect(e).toMatchObject({ code: "INTERNAL_ERROR", retryable: true });
  });

  it("the API key never appears in an error, even when the server echoes it", async () => {
    const client = await serve((req, res) =>
      json(res, 400, {
        code: "INVALID_PROMPT",
        message: `bad prompt for ${req.headers.authorization} (${KEY})`,
      }),
    );
    const e = await caught(client.generate(TEXT));
    expect(e).toBeInstanceOf(KlingRequestError);
    for (const text of [e.message, e.serverMessage ?? "", JSON.stringify(e), String(e.stack)]) {
      expect(text).not.toContain(KEY);
    }
    expect(e.serverMessage).toContain("[redacted]");
  });
});

describe("success bodies that break the contract", () => {
  it("a non-JSON 200 to generate is BAD_RESPONSE and maybe submitted", async () => {
    const client = await serve(raw(200, "OK", "text/plain"));
    const e = await caught(client.generate(TEXT));
    expect(e).toBeInstanceOf(KlingResponseError);
    expect(e).toMatchObject({ code: "BAD_RESPONSE", maybeSubmitted: true, retryable: false });
  });

  it("an HTML 200 to a status read is BAD_RESPONSE", async () => {
    const client = await serve(raw(200, "<html><title>Login</title></html>", "text/html"));
    const e = await caught(client.status("n75abc"));
    expect(e).toMatchObject({ code: "BAD_RESPONSE", httpStatus: 200 });
  });

  it("an empty 200 is BAD_RESPONSE", async () => {
    const client = await serve(raw(200, ""));
    const e = await caught(client.status("n75abc"));
    expect(e).toMatchObject({ code: "BAD_RESPONSE" });
    expect(e.message).toContain("empty body");
  });

  it("a generate answer without a task id is BAD_RESPONSE and maybe submitted", async () => {
    const client = await serve((_req, res) =>
      json(res, 200, { code: 200, message: "success", data: { status: "IN_PROGRESS" } }),
    );
    const e = await caught(client.generate(TEXT));
    expect(e).toMatchObject({ code: "BAD_RESPONSE", maybeSubmitted: true });
    expect(e.message).toMatch(/without a task id/);
  });

  it("a JSON array is BAD_RESPONSE", async () => {
    const client = await serve((_req, res) => json(res, 200, [1, 2, 3]));
    expect(await caught(client.status("n75abc"))).toMatchObject({ code: "BAD_RESPONSE" });
  });

  it("a body over 1 MiB is BAD_RESPONSE", async () => {
    const client = await serve(
      raw(200, `{"code":200,"data":{"status":"SUCCESS","pad":"${"x".repeat(1_100_000)}"}}`),
    );
    expect(await caught(client.status("n75abc"))).toMatchObject({ code: "BAD_RESPONSE" });
  });

  it("a body that stalls after the headers times out", async () => {
    const client = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"code":200,');
    }, 250);
    const e = await caught(client.status("n75abc"));
    expect(e).toBeInstanceOf(KlingTimeoutError);
    expect(e.code).toBe("TIMEOUT");
  });

  it("401 and 402 on generate are never maybe-submitted", async () => {
    const a = await serve(raw(401, ""));
    expect(await caught(a.generate(TEXT))).toBeInstanceOf(KlingAuthError);
    const b = await serve(raw(402, ""));
    const e = await caught(b.generate(TEXT));
    expect(e).toBeInstanceOf(KlingInsufficientCreditsError);
    expect(e.maybeSubmitted).toBe(false);
  });
});

describe("status words and shapes beyond the seed", () => {
  const cases: [string, unknown, unknown][] = [
    [
      "lower-case pending, code and credits as strings",
      { code: "200", message: "ok", data: { status: "pending", consumed_credits: "400" } },
      { state: "running", taskId: "n75abc", rawStatus: "pending", consumedCredits: 400 },
    ],
    [
      "QUEUED",
      { code: 200, data: { task_id: "n75abc", status: "QUEUED" } },
      { state: "running", taskId: "n75abc", rawStatus: "QUEUED" },
    ],
    [
      "succeeded with URL objects",
      { code: 200, data: { status: "succeeded", response: [{ url: "https://cdn.example.com/v.mp4" }] } },
      { state: "succeeded", taskId: "n75abc", videoUrl: "https://cdn.example.com/v.mp4" },
    ],
    [
      "no envelope at all",
      {
        task_id: "n75abc",
        status: "SUCCESS",
        response: ["https://cdn.example.com/a.mp4"],
        consumed_credits: 80,
      },
      {
        state: "succeeded",
        taskId: "n75abc",
        videoUrl: "https://cdn.example.com/a.mp4",
        consumedCredits: 80,
      },
    ],
    [
      "failed with an error object",
      { code: 200, data: { status: "FAILED", error_message: { message: "content policy" } } },
      { state: "failed", taskId: "n75abc", rawStatus: "FAILED", reason: "content policy" },
    ],
    [
      "failed with no reason at all",
      { code: 200, data: { status: "FAILED", error_message: null } },
      { state: "failed", taskId: "n75abc", rawStatus: "FAILED" },
    ],
    [
      "no status field",
      { code: 200, data: { task_id: "n75abc" } },
      { state: "running", taskId: "n75abc", rawStatus: "(none)" },
    ],
  ];

  it.each(cases)("%s", async (_name, body, expected) => {
    const client = await serve((_req, res) => json(res, 200, body));
    expect(await client.status("n75abc")).toEqual(expected);
  });

  it("a generate answer already marked SUCCESS without a URL is still a running task", async () => {
    const client = await serve((_req, res) =>
      json(res, 200, { code: 200, data: { task_id: "n71x", status: "SUCCESS" } }),
    );
    expect((await client.generate({ type: "o3-std-text-to-video", prompt: "p" })).status).toEqual({
      state: "running",
      taskId: "n71x",
      rawStatus: "SUCCESS",
    });
  });
});

describe("parseErrorBody", () => {
  it("never throws, whatever the body", () => {
    for (const body of [
      "",
      "{",
      "null",
      "[]",
      "42",
      '{"error":null}',
      "<html",
      "\u0000\u0001",
      '{"code":{"deep":1}}',
    ]) {
      expect(() => parseErrorBody(body)).not.toThrow();
    }
    expect(parseErrorBody('{"error_code":"RATE_LIMITED","msg":"slow"}')).toEqual({
      code: "RATE_LIMITED",
      message: "slow",
    });
    expect(parseErrorBody("upstream said INSUFFICIENT_CREDITS today")).toMatchObject({
      code: "INSUFFICIENT_CREDITS",
    });
  });
});
