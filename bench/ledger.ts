/**
 * Ledger benchmark: credit reservations per second and their latency on Postgres and on PGlite at 1, 8 and
 * 64 concurrent callers, next to the ceiling of the same database (a bare single-row conditional UPDATE of
 * the guild's balance at the same concurrency), plus the resident memory of an idle process per driver.
 *
 *   npm run bench
 *
 * Postgres: BENCH_DATABASE_URL, or a fresh database created on postgres://postgres@127.0.0.1:5432 and
 * dropped afterwards (BENCH_PG_SERVER_URL to use another server). PGlite: a temporary folder.
 * BENCH_SECONDS sets the measuring time of each cell (default 3).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import {
  type Database,
  type DatabaseDriver,
  openDatabase,
  queryPrepared,
  queryRows,
} from "../src/db/database.js";
import { ensureGuild, reserveCredits } from "../src/ledger/index.js";
import { silentLogger } from "../src/log.js";

const CONCURRENCY = [1, 8, 64] as const;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WARMUP_MS = 300;
const ROUNDS = 3;
const SERVER_URL = process.env.BENCH_PG_SERVER_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const AMOUNT = 10;
const RICH = 1_000_000_000_000;
const BARE_UPDATE_SQL =
  "update guilds set balance = balance - $2::bigint where id = $1::text and balance >= $2::bigint";

interface Measure {
  opsPerSec: number;
  p50: number;
  p99: number;
  ops: number;
}

interface Row {
  driver: DatabaseDriver;
  concurrency: number;
  reserve: Measure;
  update: Measure;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Sample {
  latencies: number[];
  seconds: number;
}

/** Run `op` from `concurrency` callers for `ms`, adding each call's latency to the sample (if any). */
async function runFor(
  concurrency: number,
  ms: number,
  op: () => Promise<void>,
  sample?: Sample,
): Promise<void> {
  const start = performance.now();
  const until = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        await op();
        sample?.latencies.push(performance.now() - t0);
      }
    }),
  );
  if (sample) sample.seconds += (performance.now() - start) / 1000;
}

function summarize(sample: Sample): Measure {
  const sorted = sample.latencies.sort((a, b) => a - b);
  return {
    opsPerSec: sorted.length / sample.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    ops: sorted.length,
  };
}

/** Job rows to reserve against, made in one statement (reservations need a job of the same guild). */
async function makeJobs(db: Database, guildId: string, count: number): Promise<number[]> {
  const rows = await queryRows<{ id: unknown }>(
    db,
    sql`insert into jobs (number, interaction_id, guild_id, channel_id, user_id, request, task_type, estimated_cost,
          application_id, token_expires_at)
        select i, 'bench-' || ${guildId}::text || '-' || i, ${guildId}::text, '1', 'u' || (i % 50), '{}'::jsonb,
          'text2video', ${AMOUNT}::bigint, '1', now() + interval '15 minutes'
        from generate_series(1, ${count}::int) as i
        returning id`,
  );
  return rows.map((r) => Number(r.id));
}

async function benchDriver(db: Database, driver: DatabaseDriver, jobBudget: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const concurrency of CONCURRENCY) {
    const guildId = `9${randomBytes(8).readBigUInt64BE().toString().slice(0, 17).padStart(17, "0")}`;
    await ensureGuild(db, guildId, RICH);
    const jobIds = await makeJobs(db, guildId, jobBudget);
    let next = 0;
    const reserve = async () => {
      const jobId = jobIds[next++];
      if (jobId === undefined) throw new Error(`ran out of the ${jobBudget} prepared jobs; raise the budget`);
      const result = await reserveCredits(db, { guildId, userId: "bench", jobId, amount: AMOUNT });
      if (!result.ok || result.alreadyHeld) throw new Error("unexpected reservation result");
    };
    // The ceiling: the same single-row conditional debit alone, prepared like the reservation.
    const bare = async () => {
      await queryPrepared(db, "bench_bare_update", BARE_UPDATE_SQL, [guildId, AMOUNT]);
    };
    await runFor(concurrency, WARMUP_MS, reserve);
    await runFor(concurrency, WARMUP_MS, bare);
    // Alternate short rounds, so that drift in the machine's load falls on both sides alike.
    const samples = {
      reserve: { latencies: [], seconds: 0 } as Sample,
      bare: { latencies: [], seconds: 0 } as Sample,
    };
    for (let round = 0; round < ROUNDS; round++) {
      await runFor(concurrency, (SECONDS * 1000) / ROUNDS, reserve, samples.reserve);
      await runFor(concurrency, (SECONDS * 1000) / ROUNDS, bare, samples.bare);
    }
    rows.push({ driver, concurrency, reserve: summarize(samples.reserve), update: summarize(samples.bare) });
    printRow(rows.at(-1)!);
  }
  return rows;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

function printHeader(): void {
  console.log(
    [
      "driver  ".padEnd(9),
      "callers".padStart(7),
      "reserve/s".padStart(10),
      "p50 ms".padStart(8),
      "p99 ms".padStart(8),
      "update/s".padStart(10),
      "p50 ms".padStart(8),
      "p99 ms".padStart(8),
      "ratio".padStart(6),
    ].join(" "),
  );
}

function printRow(r: Row): void {
  console.log(
    [
      r.driver.padEnd(9),
      String(r.concurrency).padStart(7),
      fmt(r.reserve.opsPerSec).padStart(10),
      fmt(r.reserve.p50, 2).padStart(8),
      fmt(r.reserve.p99, 2).padStart(8),
      fmt(r.update.opsPerSec).padStart(10),
      fmt(r.update.p50, 2).padStart(8),
      fmt(r.update.p99, 2).padStart(8),
      fmt(r.reserve.opsPerSec / r.update.opsPerSec, 2).padStart(6),
    ].join(" "),
  );
}

/** Resident memory of a fresh process that opened the database and then sat idle for a moment. */
interface Rss {
  /** Resident set size after opening the database and sitting idle for 2 s. */
  rss: number;
  /** Live JavaScript heap after a forced collection: what the process really keeps. */
  heapAfterGc: number;
}

async function idleRss(databaseUrl: string | undefined, dataDir: string): Promise<Rss> {
  const arg = JSON.stringify({ databaseUrl, dataDir });
  const child = spawn(
    process.execPath,
    [...process.execArgv, "--expose-gc", process.argv[1]!, "--idle-child", arg],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((done) => child.once("exit", done));
  if (code !== 0) throw new Error(`idle child exited with ${code}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as Rss;
}

async function idleChild(arg: string): Promise<void> {
  const { databaseUrl, dataDir } = JSON.parse(arg) as { databaseUrl?: string; dataDir: string };
  const handle = await openDatabase({ databaseUrl, dataDir, logger: silentLogger(), poolSize: 10 });
  await ensureGuild(handle.db, "100000000000000000", 0);
  await new Promise((settle) => setTimeout(settle, 2_000));
  const rss = process.memoryUsage().rss;
  (globalThis as { gc?: () => void }).gc?.();
  console.log(JSON.stringify({ rss, heapAfterGc: process.memoryUsage().heapUsed } satisfies Rss));
  await handle.close();
}

async function withPostgres<T>(fn: (url: string) => Promise<T>): Promise<T | undefined> {
  const given = process.env.BENCH_DATABASE_URL;
  if (given) return fn(given);
  const name = `kdb_bench_${randomBytes(5).toString("hex")}`;
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {}, connect_timeout: 3 });
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (err) {
    console.log(
      `(Postgres skipped: cannot create a database on ${new URL(SERVER_URL).host}: ${(err as Error).message})`,
    );
    await admin.end();
    return undefined;
  }
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const logger = silentLogger();
  const rss: Partial<Record<DatabaseDriver, Rss>> = {};
  console.log(
    `Ledger benchmark: ${SECONDS}s per cell, node ${process.version}, ${new Date().toISOString()}\n`,
  );
  printHeader();

  await withPostgres(async (url) => {
    const handle = await openDatabase({ databaseUrl: url, dataDir: "unused", logger, poolSize: 64 });
    try {
      await benchDriver(handle.db, "postgres", 200_000);
    } finally {
      await handle.close();
    }
    rss.postgres = await idleRss(url, "unused");
  });

  const dir = await mkdtemp(join(tmpdir(), "kdb-bench-"));
  try {
    const handle = await openDatabase({ dataDir: dir, logger });
    try {
      await benchDriver(handle.db, "pglite", 60_000);
    } finally {
      await handle.close();
    }
    rss.pglite = await idleRss(undefined, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  console.log("\nIdle process that opened the database: RSS after 2 s, and live JS heap after a forced GC");
  for (const [driver, m] of Object.entries(rss)) {
    console.log(
      `  ${driver.padEnd(9)} RSS ${fmt(m.rss / 2 ** 20)} MiB, heap ${fmt(m.heapAfterGc / 2 ** 20)} MiB`,
    );
  }
  console.log(
    `\nratio = reservations per second / bare conditional UPDATEs per second, same database and callers.`,
  );
  console.log(`Total time ${fmt((performance.now() - started) / 1000, 1)} s`);
}

if (process.argv[2] === "--idle-child") {
  await idleChild(process.argv[3] ?? "{}");
} else {
  await main();
}
