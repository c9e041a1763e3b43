/**
 * Databases for tests: PGlite always, and a real Postgres server when TEST_DATABASE_URL is set (CI sets
 * it, e.g. postgres://postgres@127.0.0.1:5432/postgres). Each call gives a fresh, migrated, isolated
 * database; closing it drops it. Free of vitest imports, so child-process fixtures can use it too.
 *
 *   describe.each(testDrivers())("%s", (driver) => {
 *     let t: TestDatabase;
 *     beforeAll(async () => { t = await openTestDatabase(driver); });
 *     afterAll(() => t.close());
 *   });
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/pglite";
import postgres from "postgres";
import {
  type Database,
  type DatabaseDriver,
  type DatabaseHandle,
  openDatabase,
  PGLITE_SETTINGS,
} from "../../src/db/database.js";
import { PGliteThread } from "../../src/db/pglite-thread.js";
import * as schema from "../../src/db/schema.js";
import { silentLogger } from "../../src/log.js";

export type TestDriver = DatabaseDriver;

/** The Postgres server to create test databases on, if any. */
export const TEST_DATABASE_URL: string | undefined = process.env.TEST_DATABASE_URL?.trim() || undefined;

/** The drivers to run a suite on: `describe.each(testDrivers())`. */
export function testDrivers(): TestDriver[] {
  return TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

export interface TestDatabase extends DatabaseHandle {
  /** For Postgres, the URL of this test's own database (for a second pool or a child process). */
  url: string | undefined;
}

export interface TestDatabaseOptions {
  poolSize?: number;
}

/** A fresh migrated database on the given driver. `close()` closes it and, on Postgres, drops it. */
export async function openTestDatabase(
  driver: TestDriver = "pglite",
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  if (driver === "pglite") return openPgliteFromTemplate();
  const fresh = await createPostgresDatabase();
  try {
    const handle = await openDatabase({
      databaseUrl: fresh.url,
      dataDir: "memory://",
      logger: silentLogger(),
      poolSize: options.poolSize ?? 20,
    });
    return {
      ...handle,
      url: fresh.url,
      close: async () => {
        try {
          await handle.close();
        } finally {
          await fresh.drop();
        }
      },
    };
  } catch (err) {
    await fresh.drop();
    throw err;
  }
}

/**
 * A new PGlite runs initdb (seconds); loading a dump of one already migrated by `openDatabase` takes a few
 * hundred milliseconds. The template is made once per test worker.
 */
let template: Promise<Blob> | undefined;

function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const handle = await openDatabase({ dataDir: "memory://", logger: silentLogger() });
    try {
      const client = (handle.db as Database & { $client: PGliteThread }).$client;
      return await client.dumpDataDir();
    } finally {
      await handle.close();
    }
  })();
  return template;
}

/** In a worker thread, as the bot runs PGlite (src/db/pglite-thread.ts). */
async function openPgliteFromTemplate(): Promise<TestDatabase> {
  const client = await PGliteThread.open({
    dataDir: "memory://",
    settings: PGLITE_SETTINGS,
    loadDataDir: await pgliteTemplate(),
  });
  const db: Database = drizzle({ client: client.asPGlite(), schema });
  return { db, driver: "pglite", url: undefined, close: () => client.close() };
}

export interface FreshPostgres {
  /** URL of a new, empty (unmigrated) database. */
  url: string;
  /** Drop it, ending any connection still open to it. */
  drop(): Promise<void>;
}

/** A new empty database `kdb_test_<random>` on the TEST_DATABASE_URL server (or the given one). */
export async function createPostgresDatabase(serverUrl = TEST_DATABASE_URL): Promise<FreshPostgres> {
  if (!serverUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = `kdb_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = postgres(serverUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}

export interface FreshDir {
  dir: string;
  remove(): Promise<void>;
}

/** A new empty temporary directory, e.g. a DATA_DIR for an embedded PGlite in a child process. */
export async function createPgliteDir(): Promise<FreshDir> {
  const dir = await mkdtemp(join(tmpdir(), "kdb-pglite-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------------------

/** Job numbers for test rows: unique in the process, so unique in every server. */
let testJobNumber = 0;

/** A job row with the required columns filled in, for ledger tests. */
export async function insertTestJob(
  db: Database,
  fields: { guildId: string; userId?: string; estimatedCost?: number; interactionId?: string },
): Promise<schema.Job> {
  const [job] = await db
    .insert(schema.jobs)
    .values({
      number: ++testJobNumber,
      interactionId: fields.interactionId ?? `it-${randomBytes(8).toString("hex")}`,
      guildId: fields.guildId,
      channelId: "100000000000000001",
      userId: fields.userId ?? "200000000000000001",
      request: { prompt: "a test clip" },
      taskType: "text2video",
      estimatedCost: fields.estimatedCost ?? 10,
      applicationId: "300000000000000001",
      tokenExpiresAt: new Date(Date.now() + 15 * 60_000),
    })
    .returning();
  return job!;
}

// ---------------------------------------------------------------------------------------------------------

const TS_RESOLVE_HOOK = fileURLToPath(new URL("./ts-resolve.mjs", import.meta.url));

/**
 * Arguments to run a TypeScript file of this repo in a child process with the same (pinned) Node as the
 * test: Node strips the types itself; the hook maps the `.js` import specifiers to the `.ts` files.
 * The file must use only erasable syntax (no enums, namespaces or parameter properties).
 */
export function nodeTsArgs(script: string, args: readonly string[] = []): string[] {
  return ["--import", TS_RESOLVE_HOOK, script, ...args];
}

/** Spawn a TypeScript script with `nodeTsArgs`, stdio piped. */
export function spawnTs(
  script: string,
  args: readonly string[] = [],
  env: Record<string, string | undefined> = {},
): ChildProcess {
  return spawn(process.execPath, nodeTsArgs(script, args), {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}
