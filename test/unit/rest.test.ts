import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { REST } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { restOptions } from "../../src/discord/rest.js";

/**
 * The bot's discord.js REST transport, against a plain HTTP server on loopback: JSON calls go through
 * undici's `request`, multipart uploads through Node's fetch (which sends the Fetch standard's
 * `sec-fetch-mode` header; undici's `request` does not).
 */
describe("discord.js REST transport", () => {
  const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString("latin1") });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "1" }));
    });
  });
  let rest: REST;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const config = loadConfig({ DISCORD_API_URL: `http://127.0.0.1:${port}/api` }, []);
    rest = new REST(restOptions(config)).setToken("test-token");
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends JSON through undici's request", async () => {
    await rest.post("/channels/1/messages", { body: { content: "hello" } });
    const { headers, body } = seen.at(-1)!;
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["sec-fetch-mode"]).toBeUndefined();
    expect(JSON.parse(body)).toEqual({ content: "hello" });
  });

  it("sends files as multipart through fetch", async () => {
    await rest.post("/channels/1/messages", {
      body: { content: "a clip" },
      files: [{ name: "clip.mp4", data: Buffer.from("not really a video") }],
    });
    const { headers, body } = seen.at(-1)!;
    expect(headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(headers["sec-fetch-mode"]).toBe("cors");
    expect(body).toContain('filename="clip.mp4"');
    expect(body).toContain("not really a video");
  });
});
