import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bot, createKlingClient, startBot } from "../../src/bot.js";
import { loadConfig } from "../../src/config.js";
import { MEMORY_DATA_DIR, openDatabase } from "../../src/db/database.js";
import { jobs } from "../../src/db/schema.js";
import { Health } from "../../src/health/health.js";
import { type ServiceServer, startServiceServer } from "../../src/health/server.js";
import type { KlingClient } from "../../src/kling/client.js";
import { type KlingSimulator, startKlingSimulator } from "../../src/kling-sim/server.js";
import { ensureGuild } from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import { type GuildCredits, OTHER_GUILDS, topGuilds } from "../../src/metrics/database.js";
import { watchDiscordRest } from "../../src/metrics/discord.js";
import { Metrics } from "../../src/metrics/metrics.js";
import { type FakeDiscord, startFakeDiscord } from "../fakes/discord/index.js";
import { openTestDatabase, type TestDatabase } from "../helpers/db.js";

/**
 * `GET /healthz` and `GET /metrics` of a real bot (the discord.js client against the fake Discord, the Kling
 * simulator, PGlite), wired as src/main.ts wires them, read over HTTP on loopback.
 */

const SIM_KEY = "sim-test-key-0123456789";
const GUILD_ID = "900000000000000001";
const CHANNEL_ID = "900000000000000002";
const USER_ID = "900000000000000099";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of Prometheus's text format (version 0.0.4): every line is a HELP, a TYPE or a sample whose
 * family was typed before it; label values are quoted and escaped. Throws on the first line that is not.
 */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
    if (m) continue;
    m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (m) {
      expect(types.has(m[1]!), `family ${m[1]} typed twice`).toBe(false);
      types.set(m[1]!, m[2]!);
      continue;
    }
    m = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`).exec(line);
    if (!m) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = m;
    // Values are Go floats (Prometheus parses them with ParseFloat): NaN and Inf in any case.
    const value = /^nan$/i.test(valueText!)
      ? Number.NaN
      : /^[+-]?inf$/i.test(valueText!)
        ? (valueText!.startsWith("-") ? -1 : 1) * Infinity
        : Number(valueText);
    if (Number.isNaN(value) && !/^nan$/i.test(valueText!))
      throw new Error(`bad value in ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (labelText) {
      const rest = labelText.replace(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)",?/g, (_, k, v) => {
        labels[k] = v.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
        return "";
      });
      if (rest !== "") throw new Error(`bad labels in ${JSON.stringify(line)}`);
    }
    const family = [name!, name!.replace(/_(bucket|sum|count)$/, "")].find((n) => types.has(n));
    if (!family) throw new Error(`sample before its TYPE: ${JSON.stringify(line)}`);
    samples.push({ name: name!, labels, value });
  }
  return { types, samples };
}

function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
}

describe("health and metrics of a running bot", () => {
  let discord: FakeDiscord;
  let sim: KlingSimulator;
  let database: TestDatabase;
  let kling: KlingClient;
  let bot: Bot;
  let health: Health;
  let metrics: Metrics;
  let server: ServiceServer;

  beforeAll(async () => {
    discord = await startFakeDiscord({
      guilds: [{ id: GUILD_ID, channels: [{ id: CHANNEL_ID, name: "videos" }] }],
    });
    sim = await startKlingSimulator({ apiKey: SIM_KEY, taskDurationMs: 150 });
    database = await openTestDatabase("pglite");
    const config = loadConfig(
      {
        DISCORD_TOKEN: discord.token,
        DISCORD_API_URL: discord.apiUrl,
        KLING_API_KEY: SIM_KEY,
        KLING_API_URL: sim.url,
        DEFAULT_GUILD_CREDITS: "10000",
        POLL_INTERVAL_MS: "60",
        PROGRESS_INTERVAL_MS: "0",
        KLING_RATE_LIMIT_PER_SEC: "200",
        DEV_GUILD_ID: GUILD_ID,
        TRUSTED_VIDEO_ORIGINS: sim.url,
      },
      ["bot", "kling"],
    );
    const logger = silentLogger();
    health = new Health({ role: config.role });
    metrics = new Metrics({ logger, topGuilds: 5 });
    server = await startServiceServer({ host: "127.0.0.1", port: 0, health, metrics, logger });
    health.attachDatabase(database.db);
    metrics.attachDatabase(database.db);
    kling = createKlingClient(config, logger, { onCall: metrics.klingCall });
    const m = metrics;
    bot = await startBot({
      config,
      logger,
      database,
      kling,
      observers: { rest: (rest) => watchDiscordRest(rest, m), pollerAlive: health.markPollerAlive },
    });
    health.started({ client: bot.client });
    await ensureGuild(database.db, GUILD_ID, 10_000);
  });

  afterAll(async () => {
    await bot?.stop().catch(() => undefined);
    await kling?.close();
    await server?.close();
    await database?.close().catch(() => undefined);
    await sim?.close();
    await discord?.close();
  });

  it("/healthz answers 200 while the database answers, the gateway is connected and the poll loop runs", async () => {
    // Just after the start the first pass may still be under way (healthy too); wait for it to be reported.
    let res = await get(`${server.url}/healthz`);
    for (let i = 0; i < 100 && JSON.parse(res.body).poller?.lastRunAgoMs === null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      res = await get(`${server.url}/healthz`);
    }
    expect(res.status).toBe(200);
    expect(res.type).toContain("application/json");
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({
      ok: true,
      role: "all",
      database: { ok: true },
      gateway: { ok: true, shards: { "0": "Ready" } },
      poller: { ok: true },
    });
    expect(body.poller.lastRunAgoMs).toBeLessThan(5_000);
  });

  it("/metrics is Prometheus text with the bot's families, filled by a delivered job", async () => {
    const sent = await discord.sendInteraction(
      discord.chatInput({
        name: "video",
        subcommand: "text",
        options: { prompt: "A lighthouse at night" },
        userId: USER_ID,
        guildId: GUILD_ID,
        channelId: CHANNEL_ID,
      }),
    );
    await discord.waitFor(() => discord.interactionState(sent.id)?.followUps[0]?.attachments.length, 15_000);
    // The row is marked completed just after the video is posted and the reply points to it.
    await waitUntil(async () => {
      const [job] = await database.db.select().from(jobs).where(eq(jobs.interactionId, sent.id));
      return job?.state === "completed";
    });
    // A job that waits to be sent (not due for a while, so the poller leaves it), accepted 90 s ago.
    await database.db.insert(jobs).values({
      number: 1000,
      interactionId: "900000000000000777",
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
      userId: USER_ID,
      request: {},
      taskType: "std-text-to-video",
      estimatedCost: 300,
      applicationId: "900000000000000555",
      tokenExpiresAt: new Date(Date.now() + 600_000),
      nextPollAt: new Date(Date.now() + 3_600_000),
      createdAt: new Date(Date.now() - 90_000),
    });
    // A Discord error through the bot's own REST client: an unknown channel (404, code 10003).
    await bot.client!.rest.get("/channels/900000000000000404").catch(() => undefined);
    // A status read of a task that does not exist: the simulator answers 404.
    await kling.status("n75doesnotexist").catch(() => undefined);

    const scrape = async () => {
      const res = await get(`${server.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.type).toContain("text/plain");
      return parsePrometheus(res.body);
    };
    // The Discord error is counted once its body (the code) has been read.
    await waitUntil(async () => {
      const { samples } = await scrape();
      return sample(samples, "klingbot_discord_rest_errors_total", { status: "404", code: "10003" }) === 1;
    });
    const { types, samples } = await scrape();

    expect(Object.fromEntries([...types].filter(([name]) => name.startsWith("klingbot_")))).toEqual({
      klingbot_jobs: "gauge",
      klingbot_queue_length: "gauge",
      klingbot_queue_oldest_wait_seconds: "gauge",
      klingbot_kling_calls_total: "counter",
      klingbot_kling_call_duration_seconds: "histogram",
      klingbot_discord_rest_errors_total: "counter",
      klingbot_discord_deferral_seconds: "histogram",
      klingbot_credits_held: "gauge",
      klingbot_credits_captured: "gauge",
      klingbot_credits_released: "gauge",
    });
    // The default process and Node.js families, under their standard names.
    for (const name of [
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(types.has(name), name).toBe(true);
    }

    expect(sample(samples, "klingbot_jobs", { state: "completed" })).toBe(1);
    expect(sample(samples, "klingbot_jobs", { state: "pending" })).toBe(1);
    expect(sample(samples, "klingbot_jobs", { state: "failed" })).toBe(0);
    expect(sample(samples, "klingbot_queue_length")).toBe(1);
    const oldest = sample(samples, "klingbot_queue_oldest_wait_seconds")!;
    expect(oldest).toBeGreaterThanOrEqual(89);
    expect(oldest).toBeLessThan(120);

    const generate = { endpoint: "POST /api/generate", outcome: "ok" };
    expect(sample(samples, "klingbot_kling_calls_total", generate)).toBe(1);
    expect(sample(samples, "klingbot_kling_call_duration_seconds_count", generate)).toBe(1);
    expect(
      sample(samples, "klingbot_kling_calls_total", { endpoint: "GET /api/status", outcome: "ok" }),
    ).toBeGreaterThan(0);
    expect(
      sample(samples, "klingbot_kling_calls_total", {
        endpoint: "GET /api/status",
        outcome: "INVALID_REQUEST",
      }),
    ).toBe(1);
    // No task id (nor any query) in a label.
    expect(samples.some((s) => Object.values(s.labels).some((v) => v.includes("n75")))).toBe(false);

    // The command's one first response (a deferral, or the answer itself when it is quick), in time.
    const first = samples.filter(
      (s) => s.name.startsWith("klingbot_discord_deferral_seconds_") && s.labels.outcome === "ok",
    );
    const count = first.filter((s) => s.name.endsWith("_count"));
    expect(count).toHaveLength(1);
    expect(count[0]!.value).toBe(1);
    expect(["defer", "reply"]).toContain(count[0]!.labels.kind);
    expect(first.find((s) => s.name.endsWith("_sum"))!.value).toBeLessThan(3);

    // The job was charged at the simulator's price and its hold settled: nothing held any more.
    expect(sample(samples, "klingbot_credits_captured", { guild: GUILD_ID })).toBeGreaterThan(0);
    expect(sample(samples, "klingbot_credits_held", { guild: GUILD_ID })).toBe(0);
    expect(sample(samples, "klingbot_credits_released", { guild: GUILD_ID })).toBe(0);
    // No per-member label anywhere.
    expect(samples.some((s) => Object.values(s.labels).includes(USER_ID))).toBe(false);
  });

  it("answers 404 elsewhere and 405 to other methods", async () => {
    expect((await get(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`, { method: "POST" })).status).toBe(405);
  });

  it("/healthz answers 503 with the reason when the gateway is not connected, then when the database is closed", async () => {
    await bot.client!.destroy();
    let res = await get(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    let body = JSON.parse(res.body);
    expect(body.ok).toBe(false);
    expect(body.reason).toMatch(/^gateway: /);
    expect(body.database.ok).toBe(true);

    await database.close();
    res = await get(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    body = JSON.parse(res.body);
    expect(body.reason).toMatch(/^database: .+; gateway: /);
    expect(body.database.ok).toBe(false);
    // The scrape still answers; the families read from the database are empty meanwhile.
    const metricsRes = await get(`${server.url}/metrics`);
    expect(metricsRes.status).toBe(200);
    const { samples } = parsePrometheus(metricsRes.body);
    expect(sample(samples, "klingbot_queue_length")).toBeNaN();
    expect(sample(samples, "klingbot_jobs", { state: "completed" })).toBeUndefined();
    expect(sample(samples, "klingbot_credits_captured", { guild: GUILD_ID })).toBeUndefined();
    expect(sample(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });
});

describe("health by role", () => {
  it("answers 503 while starting and while stopping", async () => {
    const health = new Health({ role: "worker" });
    expect(await health.check()).toEqual({ ok: false, reason: "starting", role: "worker" });
    health.started();
    health.stopping();
    expect(await health.check()).toEqual({ ok: false, reason: "stopping", role: "worker" });
  });

  it("a worker is unhealthy once its poll loop has not run for a minute (from its start too); a gateway process does not poll", async () => {
    const db = await openDatabase({ dataDir: MEMORY_DATA_DIR, logger: silentLogger(), migrate: false });
    try {
      let now = 1_000_000;
      const worker = new Health({ role: "worker", now: () => now });
      worker.attachDatabase(db.db);
      worker.started();
      // Its first pass may still be under way just after the start; a minute without one is a stuck loop.
      expect(await worker.check()).toMatchObject({ ok: true, poller: { ok: true, lastRunAgoMs: null } });
      now += 61_000;
      expect(await worker.check()).toMatchObject({ ok: false, reason: "poller: has not run" });
      worker.markPollerAlive();
      now += 59_000;
      expect(await worker.check()).toMatchObject({ ok: true, poller: { ok: true, lastRunAgoMs: 59_000 } });
      expect((await worker.check()).gateway).toBeUndefined();
      now += 2_000;
      expect(await worker.check()).toMatchObject({
        ok: false,
        reason: "poller: has not run for 61 s (limit 60 s)",
      });

      const gateway = new Health({ role: "gateway", now: () => now });
      gateway.attachDatabase(db.db);
      gateway.started({ client: undefined });
      const report = await gateway.check();
      expect(report).toMatchObject({ ok: false, reason: "gateway: not connected" });
      expect(report.poller).toBeUndefined();
    } finally {
      await db.close();
    }
  });
});

describe("credit labels", () => {
  it("keep the servers with the most credits moved and sum the rest as other", () => {
    const all: GuildCredits[] = Array.from({ length: 30 }, (_, i) => ({
      guildId: `9000000000000001${String(i).padStart(2, "0")}`,
      held: i,
      captured: 10 * i,
      released: 1,
    }));
    const kept = topGuilds(all, 5);
    expect(kept).toHaveLength(6);
    expect(kept.slice(0, 5).map((g) => g.held)).toEqual([29, 28, 27, 26, 25]);
    expect(kept[5]).toEqual({
      guildId: OTHER_GUILDS,
      held: (24 * 25) / 2,
      captured: (10 * (24 * 25)) / 2,
      released: 25,
    });
    expect(topGuilds(all.slice(0, 3), 5)).toHaveLength(3);
  });
});

async function waitUntil(predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}
