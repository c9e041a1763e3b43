import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, destination };
}

const BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB";
const API_KEY = "kling-secret-key-0123456789";
const INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpYWVpYWVpYWVpYWVo";

describe("logger redaction", () => {
  it("removes the bot token, the API key and interaction tokens from every record", () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: "debug", secrets: [BOT_TOKEN, API_KEY], destination });
    log.info({ token: "x", headers: { authorization: `Bearer ${API_KEY}` } }, `using ${API_KEY}`);
    log.error({
      err: new Error(
        `request to /api/v10/webhooks/123456789012345678/${INTERACTION_TOKEN}/messages/@original failed`,
      ),
    });
    log.warn({ nested: { deep: { value: `Bot ${BOT_TOKEN}` } } }, "nested");
    log.info({ interactionToken: INTERACTION_TOKEN }, "a job");
    const out = lines.join("\n");
    expect(lines).toHaveLength(4);
    expect(out).not.toContain(BOT_TOKEN);
    expect(out).not.toContain(API_KEY);
    expect(out).not.toContain(INTERACTION_TOKEN);
    expect(out).toContain("[redacted]");
    expect(out).toContain("/webhooks/123456789012345678/[redacted]");
  });
});

describe("logger redaction of database errors", () => {
  it("drops a failed query's parameters, which can hold an interaction token", () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination });
    const err = new Error(
      `Failed query: insert into "jobs" values ($1, $2)\nparams: 123,${INTERACTION_TOKEN}`,
    );
    log.error({ err }, "insert failed");
    log.error(err);
    const out = lines.join("\n");
    expect(out).not.toContain(INTERACTION_TOKEN);
    expect(out).toContain("Failed query");
  });
});

describe("logger and large payloads", () => {
  it("logs a failed upload's buffer as its size, not its bytes", () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination });
    const err = Object.assign(new Error("Missing Permissions"), {
      requestBody: { files: [{ name: "video.mp4", data: Buffer.alloc(1024 * 1024) }] },
      payload: { data: Buffer.alloc(4096) },
    });
    log.error({ err }, "delivery failed");
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThan(5_000);
    expect(lines[0]).toContain("[4096 bytes]");
  });
});
