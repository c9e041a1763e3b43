/**
 * `npm run bench:memory` (after `npm run build`): the resident memory of the compiled bot, started as
 * `npm start` starts it (the node flags of the `start` script, read from package.json), against the fake
 * Discord and the Kling simulator of this process:
 *   1. idle: RSS 5 s after its "bot started" line, on PGlite (a temporary folder; measured on the second start,
 *      the first one also runs initdb) and on Postgres (a fresh database on BENCH_PG_SERVER_URL, dropped
 *      afterwards);
 *   2. 10,000 jobs in flight: jobs inserted as running (each with its credits held and its task created on
 *      the simulator, where it runs for an hour) before the bot starts; RSS sampled every 250 ms from its
 *      start until the simulator has answered a status check of every one of them
 *      (KLING_RATE_LIMIT_PER_SEC=100, other settings as the defaults), peak and last, on each driver.
 * Both with the start script's node flags, or side by side with each set of `BENCH_FLAG_SETS` (sets separated
 * by `;`; a `NAME=value` in a set is an environment variable of the bot's process).
 * Bench code, not product code: it may read process.env.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { type DatabaseDriver, openDatabase } from "../src/db/database.js";
import { creditLedger, guilds, jobs } from "../src/db/schema.js";
import type { StoredRequestInput } from "../src/jobs/request.js";
import { startKlingSimulator } from "../src/kling-sim/server.js";
import { ensureGuilds } from "../src/ledger/index.js";
import { silentLogger } from "../src/log.js";
import { startFakeDiscord } from "../test/fakes/discord/index.js";
import { benchGuilds, machineLoad, rssMiB, sleep, throwawayPostgres } from "./support.js";

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const SIM_KEY = "bench-memory-key";
const root = fileURLToPath(new URL("..", import.meta.url));
const entry = join(root, "dist/src/start.js");
const guildList = benchGuilds(50);

/** The node flags `npm start` runs the bot with. */
function startFlags(): string[] {
  const start: string = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts.start;
  const command = /node ((?:--\S+ )*)dist\/src\/start\.js/.exec(start);
  if (!command) throw new Error(`cannot read the node flags of the start script: ${start}`);
  return command[1]!.trim().split(/\s+/).filter(Boolean);
}

interface Running {
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The sets to compare: `BENCH_FLAG_SETS`, separated by `;` (e.g. "MEMORY_MODE=small;MEMORY_MODE=fast" or
 * "--max-semi-space-size=4;--no-wasm-tier-up"), else only the start script's node flags.
 */
function flagSets(): string[][] {
  const sets = process.env.BENCH_FLAG_SETS;
  if (!sets) return [startFlags()];
  return sets.split(";").map((set) => set.trim().split(/\s+/).filter(Boolean));
}

async function startBotProcess(env: Record<string, string>, flags = startFlags()): Promise<Running> {
  // `NAME=value` in a set is an environment variable of the process (MALLOC_ARENA_MAX=2, say).
  const vars = Object.fromEntries(flags.filter((f) => /^[A-Z_]+=/.test(f)).map((f) => f.split(/=(.*)/s)));
  const nodeFlags = flags.filter((f) => !/^[A-Z_]+=/.test(f));
  const child = spawn(process.execPath, [...nodeFlags, entry], {
    env: { PATH: process.env.PATH, LOG_LEVEL: "info", LOG_PRETTY: "false", ...vars, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-20_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const deadline = Date.now() + 60_000;
  while (!out.includes('"bot started"')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the bot did not start:\n${out}`);
    }
    await sleep(50);
  }
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

interface Place {
  driver: DatabaseDriver;
  env: Record<string, string>;
  open(): ReturnType<typeof openDatabase>;
  remove(): Promise<void>;
}

async function place(driver: DatabaseDriver): Promise<Place | undefined> {
  const logger = silentLogger();
  if (driver === "pglite") {
    const dir = await mkdtemp(join(tmpdir(), "kdb-bench-memory-"));
    return {
      driver,
      env: { DATA_DIR: dir },
      open: () => openDatabase({ dataDir: dir, logger }),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const pg = await throwawayPostgres("kdb_bench_memory");
  if (!pg) return undefined;
  return {
    driver,
    env: { DATABASE_URL: pg.url },
    open: () => openDatabase({ databaseUrl: pg.url, dataDir: "memory://", logger }),
    remove: () => pg.drop(),
  };
}

const discord = await startFakeDiscord({ guilds: guildList });
const statusChecked = new Set<string>();
const sim = await startKlingSimulator({
  apiKey: SIM_KEY,
  taskDurationMs: 3_600_000,
  maxRecordedRequests: 100,
  onRequest: (r) => {
    if (r.route === "status" && r.query.task_id) statusChecked.add(r.query.task_id);
  },
});
const baseEnv = {
  DISCORD_TOKEN: discord.token,
  DISCORD_API_URL: discord.apiUrl,
  KLING_API_KEY: SIM_KEY,
  KLING_API_URL: sim.url,
  DEFAULT_GUILD_CREDITS: "1000000000",
};

async function idle(p: Place, flags?: string[]): Promise<number> {
  const bot = await startBotProcess({ ...baseEnv, ...p.env }, flags);
  try {
    await sleep(5_000);
    return await rssMiB(bot.child.pid!);
  } finally {
    await bot.stop();
  }
}

/** Tasks created on the simulator as the bot would create them (`count` of them, 50 requests at a time). */
async function createTasks(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async (_, k) => {
        const res = await fetch(`${sim.url}/api/generate`, {
          method: "POST",
          headers: { authorization: `Bearer ${SIM_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({
            type: "std-text-to-video",
            prompt: `clip ${i + k}`,
            duration: 5,
            sound: true,
          }),
        });
        const body = (await res.json()) as { data: { task_id: string } };
        return body.data.task_id;
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

/** `taskIds.length` running jobs across the servers, each with its credits held, before the bot starts. */
async function seedJobs(p: Place, taskIds: readonly string[]): Promise<void> {
  const database = await p.open();
  try {
    const { db } = database;
    await ensureGuilds(
      db,
      guildList.map((g) => g.id),
      1_000_000_000,
    );
    const now = Date.now();
    for (let i = 0; i < taskIds.length; i += 1_000) {
      await db.insert(jobs).values(
        taskIds.slice(i, i + 1_000).map((taskId, k) => {
          const n = i + k;
          const guild = guildList[n % guildList.length]!;
          const prompt = `clip ${n}`;
          const request: StoredRequestInput = {
            generate: { type: "std-text-to-video", prompt, duration: 5, aspectRatio: "16:9", sound: true },
            display: {
              subcommand: "text",
              model: "std",
              prompt,
              duration: 5,
              aspectRatio: "16:9",
              sound: true,
            },
            delivery: { attachmentSizeLimit: 10 * 1024 * 1024 },
          };
          return {
            number: n + 1,
            interactionId: `96000000000${String(n).padStart(7, "0")}`,
            guildId: guild.id,
            channelId: guild.channelId,
            userId: `97000000000${String(n).padStart(7, "0")}`,
            request,
            taskType: "std-text-to-video",
            estimatedCost: 300,
            state: "running" as const,
            klingTaskId: taskId,
            submittedAt: new Date(now),
            nextPollAt: new Date(now),
            applicationId: discord.applicationId,
            interactionToken: `bench-token-${n}`,
            tokenExpiresAt: new Date(now + 15 * 60_000),
          };
        }),
      );
    }
    // The holds, as accepting the jobs would have written them: balance = sum of the ledger.
    await db.execute(sql`
      insert into ${creditLedger} (guild_id, user_id, job_id, kind, amount)
      select guild_id, user_id, id, 'hold', -estimated_cost from ${jobs}`);
    await db.execute(sql`
      update ${guilds} g set balance = g.balance - held.total
      from (select guild_id, sum(estimated_cost) as total from ${jobs} group by guild_id) held
      where g.id = held.guild_id`);
  } finally {
    await database.close();
  }
}

async function inFlight(p: Place, taskIds: readonly string[], flags?: string[]): Promise<string> {
  await seedJobs(p, taskIds);
  statusChecked.clear();
  const bot = await startBotProcess({ ...baseEnv, ...p.env, KLING_RATE_LIMIT_PER_SEC: "100" }, flags);
  const started = Date.now();
  let peak = 0;
  let last = 0;
  try {
    const deadline = started + 10 * 60_000;
    while (taskIds.some((id) => !statusChecked.has(id)) && Date.now() < deadline) {
      last = await rssMiB(bot.child.pid!);
      peak = Math.max(peak, last);
      await sleep(250);
    }
    const checked = taskIds.filter((id) => statusChecked.has(id)).length;
    return `peak ${peak.toFixed(0)} MiB, last ${last.toFixed(0)} MiB; ${checked} of ${taskIds.length} jobs checked in ${((Date.now() - started) / 1000).toFixed(0)} s`;
  } finally {
    await bot.stop();
  }
}

if (!existsSync(entry)) {
  console.log("run `npm run build` first");
  process.exit(1);
}
const started = Date.now();
console.log(
  `Memory benchmark: node ${process.version} ${startFlags().join(" ")}, ${new Date().toISOString()}, ${machineLoad()}\n`,
);
const drivers = (process.env.BENCH_DRIVERS ?? "pglite,postgres").split(",") as DatabaseDriver[];
const taskIds = await createTasks(JOBS);
try {
  for (const driver of drivers) {
    const p = await place(driver);
    if (!p) continue;
    try {
      if (driver === "pglite") await idle(p); // initdb
      for (const flags of flagSets()) {
        const rss = await idle(p, flags);
        console.log(
          `${`idle RSS, ${driver}`.padEnd(40)} ${rss.toFixed(0)} MiB  (${flags.join(" ") || "no flags"})`,
        );
      }
      for (const flags of flagSets()) {
        // Each run seeds its own jobs: the database is emptied of the previous run's first.
        const database = await p.open();
        await database.db.execute(sql`truncate ${creditLedger}, ${jobs}, ${guilds} cascade`);
        await database.close();
        const figures = await inFlight(p, taskIds, flags);
        console.log(
          `${`${JOBS} jobs in flight, ${driver}`.padEnd(40)} ${figures}  (${flags.join(" ") || "no flags"})`,
        );
      }
    } finally {
      await p.remove();
    }
  }
} finally {
  await sim.close();
  await discord.close();
}
console.log(`\n${machineLoad()}; total time ${((Date.now() - started) / 1000).toFixed(1)} s`);
