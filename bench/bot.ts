/**
 * `npm run bench:bot`: the bot end to end on loopback (real discord.js client, fake Discord, Kling simulator,
 * PGlite), measuring
 *   1. the time from dispatching INTERACTION_CREATE to Discord receiving the deferral (3 s allowed),
 *      for 100 interactions one after another and for 100 at once;
 *   2. the time from a task's completion at the API to the finished video in the reply, at two poll intervals;
 *   3. the resident memory of the compiled bot, idle, on each driver (needs `npm run build` first).
 * Prints medians and p99s. With TEST_DATABASE_URL set, the deferral figures are also taken on Postgres.
 * Bench code, not product code: it may read process.env.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { startKlingSimulator } from "../src/kling-sim/server.js";
import {
  CHANNEL_ID,
  GUILD_ID,
  SIM_KEY,
  type Stack,
  startStack,
  videoText,
  waitForVideo,
} from "../test/e2e/harness.js";
import { startFakeDiscord } from "../test/fakes/discord/index.js";
import { type TestDriver, testDrivers } from "../test/helpers/db.js";
import { quantile } from "./support.js";

const PG_SERVER = process.env.BENCH_PG_SERVER ?? "postgres://postgres@127.0.0.1:5432/postgres";

function summary(label: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1).padStart(8);
  return `${label.padEnd(56)} n=${String(s.length).padStart(3)}  median ${f(quantile(s, 0.5))} ms  p99 ${f(quantile(s, 0.99))} ms  max ${f(s.at(-1) ?? Number.NaN)} ms`;
}

async function waitDeferred(stack: Stack, id: string): Promise<number> {
  return stack.discord.waitFor(() => stack.discord.callbackLatencyMs(id), 10_000);
}

async function deferrals(driver: TestDriver): Promise<void> {
  const stack = await startStack({
    driver,
    env: { DEFAULT_GUILD_CREDITS: "100000000", POLL_INTERVAL_MS: "1000", PROGRESS_INTERVAL_MS: "10000" },
    sim: { taskDurationMs: 60_000 },
  });
  try {
    // Warm-up: the first interaction pays for lazy initialisation.
    for (let i = 0; i < 5; i++)
      await waitDeferred(
        stack,
        (await stack.discord.sendInteraction(videoText(stack.discord, `warm ${i}`))).id,
      );
    const sequential: number[] = [];
    for (let i = 0; i < 100; i++) {
      const { id } = await stack.discord.sendInteraction(videoText(stack.discord, `sequential ${i}`));
      sequential.push(await waitDeferred(stack, id));
    }
    console.log(summary(`interaction → deferral, one at a time (${driver})`, sequential));
    const sent = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        stack.discord.sendInteraction(videoText(stack.discord, `burst ${i}`)),
      ),
    );
    const burst = await Promise.all(sent.map((s) => waitDeferred(stack, s.id)));
    console.log(summary(`interaction → deferral, 100 at once (${driver})`, burst));
  } finally {
    await stack.close();
  }
}

async function deliveries(pollMs: number, jobs: number): Promise<void> {
  const stack = await startStack({
    env: {
      DEFAULT_GUILD_CREDITS: "100000000",
      POLL_INTERVAL_MS: String(pollMs),
      PROGRESS_INTERVAL_MS: "10000",
    },
    sim: { taskDurationMs: 2_000 },
  });
  try {
    const ids = await Promise.all(
      Array.from({ length: jobs }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 50));
        return (await stack.discord.sendInteraction(videoText(stack.discord, `delivery ${i}`))).id;
      }),
    );
    const lags: number[] = [];
    for (const id of ids) {
      const message = await waitForVideo(stack.discord, id, { timeoutMs: 60_000 });
      const delivered = [message.createdWith, ...message.edits].find((w) => w.files.length > 0)!.at;
      const prompt = `delivery ${ids.indexOf(id)}`;
      const task = [...stack.sim.tasks.values()].find((t) => t.request.prompt === prompt)!;
      lags.push(delivered - task.doneAt);
    }
    console.log(summary(`task done → video posted, POLL_INTERVAL_MS=${pollMs}`, lags));
  } finally {
    await stack.close();
  }
}

async function idleRss(): Promise<void> {
  const main = fileURLToPath(new URL("../dist/src/start.js", import.meta.url));
  if (!existsSync(main)) {
    console.log("idle RSS: skipped (run `npm run build` first)");
    return;
  }
  const discord = await startFakeDiscord({ guilds: [{ id: GUILD_ID, channels: [{ id: CHANNEL_ID }] }] });
  const sim = await startKlingSimulator({ apiKey: SIM_KEY });
  const dir = await mkdtemp(join(tmpdir(), "kdb-bench-"));
  const dbName = `kdb_bench_rss_${process.pid}`;
  const admin = postgres(PG_SERVER, { max: 1, onnotice: () => {} });
  let pgUrl: string | undefined;
  try {
    await admin.unsafe(`create database ${dbName}`);
    const u = new URL(PG_SERVER);
    u.pathname = `/${dbName}`;
    pgUrl = u.toString();
  } catch {
    pgUrl = undefined;
  }
  const measure = async (label: string, extra: Record<string, string>) => {
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env.PATH,
        DISCORD_TOKEN: discord.token,
        DISCORD_API_URL: discord.apiUrl,
        KLING_API_KEY: SIM_KEY,
        KLING_API_URL: sim.url,
        LOG_LEVEL: "info",
        LOG_PRETTY: "false",
        ...extra,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const deadline = Date.now() + 30_000;
    while (!out.includes('"bot started"') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 5_000));
    const status = await import("node:fs/promises").then((fs) =>
      fs.readFile(`/proc/${child.pid}/status`, "utf8"),
    );
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    console.log(`${`idle RSS of the bot, ${label}`.padEnd(56)} ${rss.toFixed(0)} MiB`);
  };
  try {
    // The entry point keeps memory small unless MEMORY_MODE=fast; both, side by side.
    // PGlite is measured on its second start: the first one also runs initdb, once in the bot's life.
    await measure("PGlite, first start (initdb)", { DATA_DIR: join(dir, "pglite") });
    for (const mode of ["small", "fast"]) {
      const label = `MEMORY_MODE=${mode}`;
      await measure(`PGlite, ${label}`, { DATA_DIR: join(dir, "pglite"), MEMORY_MODE: mode });
      if (pgUrl) await measure(`Postgres, ${label}`, { DATABASE_URL: pgUrl, MEMORY_MODE: mode });
    }
  } finally {
    if (pgUrl) await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => undefined);
    await admin.end({ timeout: 5 });
    await rm(dir, { recursive: true, force: true });
    await sim.close();
    await discord.close();
  }
}

const started = Date.now();
console.log(`Bot benchmark, node ${process.version}, ${new Date().toISOString()}\n`);
for (const driver of testDrivers()) await deferrals(driver);
await deliveries(1_000, 20);
await deliveries(5_000, 20);
await idleRss();
console.log(`\nTotal time ${((Date.now() - started) / 1000).toFixed(1)} s`);
