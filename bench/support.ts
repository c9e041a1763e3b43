/**
 * What the benchmarks share: percentiles, the machine's load, the Postgres server they make their
 * throw-away databases on, and the Discord servers of the fake Discord. Bench code, not product code: it may
 * read process.env.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import postgres from "postgres";
import type { FakeGuildConfig } from "../test/fakes/discord/index.js";

export const PG_SERVER_URL = process.env.BENCH_PG_SERVER_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** The q-quantile (0–1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** "load 1.23 0.98 0.77" (1, 5 and 15 minutes): other work on the machine skews every figure. */
export function machineLoad(): string {
  return `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`;
}

/** A new empty database on the bench's Postgres server, dropped by `drop()` (connections ended). */
export async function throwawayPostgres(
  prefix: string,
): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(PG_SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (err) {
    console.log(`Postgres at ${PG_SERVER_URL} not usable (${(err as Error).message}): skipped`);
    await admin.end({ timeout: 5 });
    return undefined;
  }
  const url = new URL(PG_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await admin.end({ timeout: 5 });
    },
  };
}

/** `count` Discord servers with one text channel each; ids are valid snowflakes. */
export function benchGuilds(count: number): (FakeGuildConfig & { channelId: string })[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `92000000000000${String(i).padStart(4, "0")}`;
    const channelId = `93000000000000${String(i).padStart(4, "0")}`;
    return { id, channelId, channels: [{ id: channelId, name: "videos" }] };
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The resident memory of a process, from /proc. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}
