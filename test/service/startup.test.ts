import { once } from "node:events";
import { createServer } from "node:net";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KlingClient } from "../../src/kling/client.js";
import { type KlingSimulator, startKlingSimulator } from "../../src/kling-sim/server.js";
import { createLogger } from "../../src/log.js";
import { checkKlingKey, describeError, StartupError } from "../../src/service/startup.js";
import { type FakeDiscord, startFakeDiscord } from "../fakes/discord/index.js";
import { FixtureProcess } from "../helpers/child.js";

/**
 * Start-up failures name their step and their root cause; a refused Kling key stops the start, an unreachable
 * API does not. The last part runs the real entry point (src/main.ts) in child processes.
 */

const SIM_KEY = "sim-test-key-0123456789";
const GUILD_ID = "900000000000000001";
const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

function capturedLogger() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
  });
  return { logger: createLogger({ level: "debug", destination: stream }), lines };
}

describe("describeError", () => {
  it("unwraps fetch's `fetch failed` down to the refused connection", async () => {
    const port = await closedPort();
    const err = await fetch(`http://127.0.0.1:${port}/api/v10/gateway/bot`).catch((e: unknown) => e);
    expect(describeError(err)).toMatch(new RegExp(`^fetch failed: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
  });

  it("names an unknown host, each address a connect tried, and codes the message lacks", () => {
    const dns = Object.assign(new Error("getaddrinfo ENOTFOUND discord.invalid"), { code: "ENOTFOUND" });
    expect(describeError(new TypeError("fetch failed", { cause: dns }))).toBe(
      "fetch failed: getaddrinfo ENOTFOUND discord.invalid",
    );
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: "ECONNREFUSED" });
    const both = new AggregateError([refused("::1:5432"), refused("127.0.0.1:5432")], "");
    expect(describeError(new Error("database unreachable", { cause: both }))).toBe(
      "database unreachable: connect ECONNREFUSED ::1:5432, connect ECONNREFUSED 127.0.0.1:5432",
    );
    const closed = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    expect(describeError(closed)).toBe("other side closed (UND_ERR_SOCKET)");
    expect(describeError("plain")).toBe("plain");
  });
});

describe("the Kling key check", () => {
  let sim: KlingSimulator;
  const clients: KlingClient[] = [];
  const client = (apiKey: string, baseUrl = sim.url) => {
    const c = new KlingClient({ baseUrl, apiKey, maxRetries: 0, timeoutMs: 2_000 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    sim = await startKlingSimulator({ apiKey: SIM_KEY });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await sim?.close();
  });

  it("accepts a key the API takes (a 404 for a task that does not exist)", async () => {
    const { logger, lines } = capturedLogger();
    await checkKlingKey(client(SIM_KEY), logger);
    expect(lines.map((l) => l.msg)).toContain("Kling API key accepted");
    expect(sim.requests.filter((r) => r.path.startsWith("/api/status"))).toHaveLength(1);
  });

  it("stops the start on a refused key, saying so", async () => {
    const { logger } = capturedLogger();
    const err = await checkKlingKey(client("not-the-key-0123456789"), logger).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).step).toBe("Kling key check");
    expect((err as Error).message).toBe(
      "Kling key check failed: KLING_API_KEY was refused by the Kling API (HTTP 401)",
    );
  });

  it("only warns when the API cannot be reached", async () => {
    const { logger, lines } = capturedLogger();
    const port = await closedPort();
    await checkKlingKey(client(SIM_KEY, `http://127.0.0.1:${port}`), logger);
    const warning = lines.find((l) => l.level === 40);
    expect(warning?.msg).toMatch(/could not check KLING_API_KEY .* starting anyway/);
    expect(String(warning?.cause)).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
  });
});

// Each child starts an embedded database of its own (seconds on a loaded machine).
describe("the entry point (src/main.ts) at start", { timeout: 60_000 }, () => {
  let discord: FakeDiscord;
  let sim: KlingSimulator;
  const children: FixtureProcess[] = [];

  beforeAll(async () => {
    discord = await startFakeDiscord({ guilds: [{ id: GUILD_ID, channels: [] }] });
    sim = await startKlingSimulator({ apiKey: SIM_KEY });
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await c.stop();
  });
  afterAll(async () => {
    await sim?.close();
    await discord?.close();
  });

  function start(extra: Record<string, string | undefined>) {
    const child = new FixtureProcess(MAIN, undefined, {
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      KLING_API_KEY: SIM_KEY,
      KLING_API_URL: sim.url,
      DEV_GUILD_ID: GUILD_ID,
      REGISTER_COMMANDS: "false",
      DATABASE_URL: undefined,
      DATA_DIR: "memory://",
      LOG_LEVEL: "info",
      LOG_PRETTY: "false",
      METRICS_PORT: undefined,
      ...extra,
    });
    children.push(child);
    return child;
  }

  const records = (child: FixtureProcess) =>
    child.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);

  it("names the failed step and the root cause when Discord cannot be reached", async () => {
    const port = await closedPort();
    const child = start({ DISCORD_API_URL: `http://127.0.0.1:${port}/api` });
    expect((await child.exited).code).toBe(1);
    const fatal = records(child).find((r) => r.level === 60);
    expect(fatal?.msg).toMatch(
      new RegExp(`^Discord login failed: (fetch failed: )?.*ECONNREFUSED 127\\.0\\.0\\.1:${port}`),
    );
    expect(fatal?.step).toBe("Discord login");
  });

  it("says that Discord refused the token", async () => {
    const child = start({
      DISCORD_TOKEN: "MTAwMDAwMDAwMDAwMDAwMDAw.Gxxxxx.not-the-right-token-at-all-0123456",
    });
    expect((await child.exited).code).toBe(1);
    const fatal = records(child).find((r) => r.level === 60);
    expect(fatal?.msg).toMatch(/^Discord login failed: DISCORD_TOKEN was refused by Discord \(.+\)$/);
  });

  it("stops with a clear message when the Kling API refuses the key", async () => {
    const child = start({ KLING_API_KEY: "not-the-key-0123456789" });
    expect((await child.exited).code).toBe(1);
    const fatal = records(child).find((r) => r.level === 60);
    expect(fatal?.msg).toBe("Kling key check failed: KLING_API_KEY was refused by the Kling API (HTTP 401)");
    // Stopped first, before the database is opened or Discord is logged in to.
    expect(records(child).some((r) => r.msg === "database ready" || r.msg === "connected to Discord")).toBe(
      false,
    );
  });

  it("starts anyway when the Kling API cannot be reached, and serves /healthz and /metrics", async () => {
    const port = await closedPort();
    const child = start({ KLING_API_URL: `http://127.0.0.1:${port}`, METRICS_PORT: "0" });
    await child.waitFor(
      (lines) => lines.some((l) => l.includes('"bot started"')),
      "the bot to start",
      40_000,
    );
    const log = records(child);
    expect(
      log.find((r) => r.level === 40 && String(r.msg).startsWith("could not check KLING_API_KEY")),
    ).toBeDefined();
    const listening = log.find((r) => r.msg === "health and metrics listening");
    expect(listening).toMatchObject({ host: "127.0.0.1" });
    const base = `http://127.0.0.1:${listening!.port}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, role: "all" });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain("# TYPE klingbot_jobs gauge");
    expect(metrics).toContain("# TYPE klingbot_kling_calls_total counter");
    expect(metrics).toMatch(/^process_cpu_user_seconds_total \d/m);
  });
});
