/**
 * `npm run bench:processes`: three bot processes (the compiled `dist/src/start.js`: one gateway-and-poller, two
 * workers) on one fresh Postgres deliver BENCH_JOBS (default 2,000) videos asked for across 50 servers; one
 * worker is killed with SIGKILL halfway. Each process reaches the Kling simulator through its own recording
 * proxy, so every status call is known by process, start and end. Prints: jobs completed, videos posted per
 * job (must be exactly one), status calls of one task in flight at once from two processes (must be none), and
 * how long the killed process's jobs took to be taken over. Needs `npm run build` first.
 * Bench code, not product code: it may read process.env.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { inArray, sql } from "drizzle-orm";
import postgres from "postgres";
import { request } from "undici";
import { openDatabase } from "../src/db/database.js";
import { jobs } from "../src/db/schema.js";
import { startKlingSimulator } from "../src/kling-sim/server.js";
import { checkInvariants } from "../src/ledger/index.js";
import { silentLogger } from "../src/log.js";
import { SIM_KEY } from "../test/e2e/harness.js";
import { startFakeDiscord } from "../test/fakes/discord/index.js";

const JOBS = Number(process.env.BENCH_JOBS ?? 2000);
const SERVERS = 50;
const PG_SERVER = process.env.BENCH_PG_SERVER ?? "postgres://postgres@127.0.0.1:5432/postgres";
const main = fileURLToPath(new URL("../dist/src/start.js", import.meta.url));
if (!existsSync(main)) {
  console.log("run `npm run build` first");
  process.exit(1);
}

interface Call {
  proc: number;
  taskId: string;
  start: number;
  end: number;
}

/** A proxy in front of the simulator that records each status call of process `proc`. */
async function recordingProxy(target: string, proc: number, calls: Call[]): Promise<Server> {
  const server = createServer(async (req, res) => {
    const start = performance.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const answer = await request(`${target}${req.url}`, {
      method: req.method as "GET" | "POST",
      headers: { authorization: req.headers.authorization ?? "", "content-type": "application/json" },
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    const body = Buffer.from(await answer.body.arrayBuffer());
    res.writeHead(answer.statusCode, { "content-type": "application/json" });
    res.end(body);
    const taskId = new URL(req.url ?? "/", "http://x").searchParams.get("task_id");
    if (taskId) calls.push({ proc, taskId, start, end: performance.now() });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return server;
}

const guilds = Array.from({ length: SERVERS }, (_, i) => ({
  id: String(910000000000000000n + BigInt(i)),
  channels: [{ id: String(920000000000000000n + BigInt(i)) }],
}));
const discord = await startFakeDiscord({ guilds });
// Tasks run 2–8 s, spread evenly by prompt number.
const sim = await startKlingSimulator({
  apiKey: SIM_KEY,
  outcome: (body) => {
    const n = Number(/#(\d+)/.exec(String(body.prompt))?.[1] ?? 0);
    return { status: "SUCCESS", durationMs: 2_000 + ((n * 7919) % 6_000) };
  },
});
const admin = postgres(PG_SERVER, { max: 1, onnotice: () => {} });
const dbName = `kdb_bench_procs_${process.pid}`;
await admin.unsafe(`create database ${dbName}`);
const url = new URL(PG_SERVER);
url.pathname = `/${dbName}`;
const calls: Call[] = [];
const proxies: Server[] = [];
const children: ChildProcess[] = [];
const db = await openDatabase({ databaseUrl: url.toString(), dataDir: "memory://", logger: silentLogger() });

function start(proc: number, role: "all" | "worker", proxy: Server): Promise<ChildProcess> {
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? "",
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      KLING_API_KEY: SIM_KEY,
      KLING_API_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      TRUSTED_VIDEO_ORIGINS: sim.url,
      DATABASE_URL: url.toString(),
      DEFAULT_GUILD_CREDITS: "10000000",
      PROCESS_ROLE: role,
      KLING_MAX_IN_FLIGHT: "10000",
      KLING_RATE_LIMIT_PER_SEC: "150",
      POLL_CONCURRENCY: "64",
      DELIVERY_CONCURRENCY: "16",
      POLL_INTERVAL_MS: "1000",
      PROGRESS_INTERVAL_MS: "600000",
      JOB_LEASE_MS: "120000",
      REGISTER_COMMANDS: role === "all" ? "true" : "false",
      LOG_LEVEL: "info",
      LOG_PRETTY: "false",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (c: Buffer) => {
    out = (out + c.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('"bot started"')) {
        clearInterval(timer);
        resolve(child);
      }
    }, 50);
    child.once("exit", (code) => {
      clearInterval(timer);
      reject(new Error(`process ${proc} exited (${code}):\n${out}`));
    });
  });
}

try {
  for (let p = 0; p < 3; p++) proxies.push(await recordingProxy(sim.url, p, calls));
  await start(0, "all", proxies[0]!);
  // Lift the servers' own limits on jobs in flight: this measures the processes, not the moderation.
  await db.db.execute(
    sql`update guilds set settings = coalesce(settings, '{}'::jsonb) || '{"memberJobs": 100000, "serverJobs": 100000}'::jsonb`,
  );
  const victim = await start(1, "worker", proxies[1]!);
  await start(2, "worker", proxies[2]!);
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i++) {
    const g = guilds[i % SERVERS]!;
    await discord.sendInteraction(
      discord.chatInput({
        name: "video",
        subcommand: "text",
        options: { prompt: `Clip #${i}` },
        userId: String(930000000000000000n + BigInt(i % 500)),
        guildId: g.id,
        channelId: g.channels[0]!.id,
      }),
    );
  }
  const count = async (states: string[]) =>
    Number(
      (
        await db.db
          .select({ n: sql<string>`count(*)` })
          .from(jobs)
          .where(inArray(jobs.state, states as never))
      )[0]!.n,
    );
  // Halfway, kill a worker that holds jobs.
  while ((await count(["completed", "failed"])) < JOBS / 2) await new Promise((r) => setTimeout(r, 200));
  // Kill it at a moment it holds jobs (leases are held only while a process works on a job).
  let held: number[] = [];
  let victimOwner: string | undefined;
  for (let tries = 0; tries < 500 && held.length === 0; tries++) {
    const rows = await db.db
      .select({ id: jobs.id, owner: jobs.leaseOwner })
      .from(jobs)
      .where(sql`${jobs.leaseOwner} like ${`%:${victim.pid}:%`}`);
    held = rows.map((r) => r.id);
    victimOwner = rows[0]?.owner ?? undefined;
    if (held.length === 0) await new Promise((r) => setTimeout(r, 20));
  }
  victim.kill("SIGKILL");
  const killedAt = performance.now();
  let takenOverMs = Number.NaN;
  for (;;) {
    const still = held.length
      ? Number(
          (
            await db.db
              .select({ n: sql<string>`count(*)` })
              .from(jobs)
              .where(
                sql`${jobs.leaseOwner} = ${victimOwner!} and ${jobs.id} in (${sql.join(
                  held.map((h) => sql`${h}`),
                  sql`, `,
                )})`,
              )
          )[0]!.n,
        )
      : 0;
    if (still === 0) {
      takenOverMs = performance.now() - killedAt;
      break;
    }
    if (performance.now() - killedAt > 180_000) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  while ((await count(["completed", "failed"])) < JOBS) {
    if (performance.now() - t0 > 1_200_000) throw new Error("not all jobs ended in 20 minutes");
    await new Promise((r) => setTimeout(r, 500));
  }
  const totalS = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 2_000));
  const completed = await count(["completed"]);
  // Every message carrying a video, in every server's channel: one per completed job means none twice.
  const videoMessages = guilds
    .flatMap((g) => discord.channelMessages(g.channels[0]!.id))
    .filter((m) => !m.deleted && m.attachments.length > 0).length;
  // Status calls of one task overlapping in time from two different processes.
  const byTask = new Map<string, Call[]>();
  for (const c of calls) byTask.set(c.taskId, [...(byTask.get(c.taskId) ?? []), c]);
  let concurrent = 0;
  for (const list of byTask.values()) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.proc !== list[i - 1]!.proc && list[i]!.start < list[i - 1]!.end) concurrent += 1;
    }
  }
  const invariants = await checkInvariants(db.db);
  console.log(
    `3 processes (1 gateway + poller, 2 workers) on one Postgres, ${JOBS} jobs across ${SERVERS} servers, tasks 2–8 s`,
  );
  console.log(
    `all ended in ${totalS.toFixed(1)} s; completed ${completed}/${JOBS}; ledger consistent: ${invariants.ok}`,
  );
  console.log(`messages carrying a video: ${videoMessages} for ${completed} completed jobs`);
  console.log(`status calls: ${calls.length}; of one task from two processes at once: ${concurrent}`);
  console.log(
    `worker killed with SIGKILL holding ${held.length} jobs: all taken over by the others in ${(takenOverMs / 1000).toFixed(2)} s`,
  );
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  await Promise.all(
    children.map((c) =>
      c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined,
    ),
  );
  await db.close();
  await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => undefined);
  await admin.end({ timeout: 5 });
  for (const p of proxies) p.close();
  await sim.close();
  await discord.close();
}
