import { existsSync } from "node:fs";
import { link, mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import type { ExtractTablesWithRelations, SQLWrapper } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import type { Logger } from "../log.js";
import { PGliteThread } from "./pglite-thread.js";
import * as schema from "./schema.js";

export type Schema = typeof schema;

/**
 * One type for both drivers, and for a transaction handed out by `db.transaction` (it extends this type),
 * so domain functions take `db: Database` and work on a pool, on PGlite or inside a caller's transaction.
 * `db.execute` returns a different shape per driver; read rows with `queryRows`.
 */
export type Database = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export type DatabaseDriver = "postgres" | "pglite";

export interface DatabaseHandle {
  db: Database;
  driver: DatabaseDriver;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A postgres:// URL; without it the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** Where PGlite keeps its files; `memory://` for an in-memory database (tests). */
  dataDir: string;
  logger: Logger;
  /** Connections in the postgres.js pool. */
  poolSize?: number;
  /** Apply the migrations in `drizzle/` before returning (default true). */
  migrate?: boolean;
}

export const MEMORY_DATA_DIR = "memory://";

/** Advisory-lock key that serialises migrations of every process sharing one database ("kdbmig" in hex). */
const MIGRATION_LOCK_KEY = 0x6b64626d6967;
const LOCK_FILE = "pglite.lock";
const PGLITE_SUBDIR = "pglite";

export class DatabaseLockedError extends Error {
  readonly code = "database_locked" as const;
  readonly pid: number;
  readonly dir: string;
  constructor(pid: number, dir: string) {
    super(
      `Another process (pid ${pid}) is using the embedded database in ${dir}. PGlite is single-process: ` +
        "stop it, or set DATABASE_URL to use a Postgres server.",
    );
    this.name = "DatabaseLockedError";
    this.pid = pid;
    this.dir = dir;
  }
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openPglite(options);
}

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const { logger } = options;
  if (options.migrate ?? true) await migratePostgresLocked(url, logger);
  const client = postgres(url, {
    max: options.poolSize ?? 10,
    onnotice: () => {},
    connection: { application_name: "kling-discord-bot" },
  });
  const db: Database = drizzlePostgres({ client, schema });
  if ((await isPostgresDriverPatched()) === false) {
    logger.error(
      "postgres.js is installed without patches/postgres+3.4.9.patch (npm ci applies it): a database connection " +
        "lost mid-transaction can crash the process",
    );
  }
  logger.info({ driver: "postgres", poolSize: options.poolSize ?? 10 }, "database ready");
  return {
    db,
    driver: "postgres",
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * postgres.js 3.4.9 crashes the process when a connection is lost mid-transaction, and leaks rejections of
 * its own; patches/postgres+3.4.9.patch fixes it (see patches/README.md). An install that skipped the
 * postinstall script (`npm ci --ignore-scripts`) has the bare driver: say so at start. Undefined: cannot tell.
 */
async function isPostgresDriverPatched(): Promise<boolean | undefined> {
  try {
    // The CommonJS entry, …/postgres/cjs/src/index.js; the patch changes both builds alike.
    const entry = createRequire(import.meta.url).resolve("postgres");
    const source = await readFile(join(dirname(entry), "../../src/connection.js"), "utf8");
    return source.includes("patched (kling-discord-bot)");
  } catch {
    return undefined;
  }
}

/**
 * Several processes may start at once on one database (a rolling deploy, a test run). The migrator's own
 * check-then-apply is not safe against that, so every migrator waits for one session-level advisory lock on
 * a dedicated single connection; whoever comes second finds the work done. The lock goes with the
 * connection if the process dies.
 */
async function migratePostgresLocked(url: string, logger: Logger): Promise<void> {
  const lockClient = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await lockClient`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migratePostgres(drizzlePostgres({ client: lockClient }), {
        migrationsFolder: migrationsFolder(),
      });
      logger.debug({ driver: "postgres" }, "migrations applied");
    } finally {
      await lockClient`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await lockClient.end({ timeout: 5 });
  }
}

/**
 * Postgres's default 128 MB of shared buffers is sized for a server; the embedded database of one bot
 * process needs far less, and each megabyte is resident memory of the bot (measured: 310 → 173 MiB RSS).
 */
export const PGLITE_SETTINGS: readonly string[] = ["shared_buffers=16MB"];

async function openPglite(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const { logger } = options;
  const inMemory = options.dataDir.startsWith(MEMORY_DATA_DIR);
  const dir = inMemory ? options.dataDir : resolve(options.dataDir);
  let releaseLock = async () => {};
  if (!inMemory) {
    await mkdir(dir, { recursive: true });
    releaseLock = await acquireDirLock(dir);
  }
  let client: PGliteThread | undefined;
  try {
    // In a worker thread of its own: see pglite-thread.ts.
    client = await PGliteThread.open({
      dataDir: inMemory ? dir : join(dir, PGLITE_SUBDIR),
      settings: PGLITE_SETTINGS,
    });
    const db: Database = drizzlePglite({ client: client.asPGlite(), schema });
    if (options.migrate ?? true) {
      // Single process (the lock file above), so the advisory lock only keeps the two drivers alike.
      await db.execute(`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
      try {
        await migratePglite(drizzlePglite({ client: client.asPGlite() }), {
          migrationsFolder: migrationsFolder(),
        });
      } finally {
        await db.execute(`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
      }
    }
    logger.info({ driver: "pglite", dataDir: dir }, "database ready");
    const pg = client;
    return {
      db,
      driver: "pglite",
      close: async () => {
        try {
          if (!pg.closed) await pg.close();
        } finally {
          await releaseLock();
        }
      },
    };
  } catch (err) {
    if (client && !client.closed) await client.close().catch(() => {});
    await releaseLock();
    throw err;
  }
}

/** Directories this process holds the lock of: a second open from the same process is refused as well. */
const heldDirs = new Set<string>();

interface LockOwner {
  pid: number;
  /** The process's start time (Linux, clock ticks since boot); tells a reused pid from the original. */
  start: string | undefined;
}

/**
 * PGlite is Postgres in one process: a second process writing the same files would corrupt them. An
 * exclusive lock file naming our process keeps it out. A lock left by a process that died (SIGKILL, power
 * loss, OOM) names a process that no longer runs and is taken over. A container restarts its process with
 * the same small pid, so the process's start time is recorded too, and a pid alone does not keep the lock.
 */
async function acquireDirLock(dir: string): Promise<() => Promise<void>> {
  if (heldDirs.has(dir)) throw new DatabaseLockedError(process.pid, dir);
  const lockPath = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, start: await processStart(process.pid) };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(lockPath, `${me.pid}\n${me.start ?? ""}\n`)) {
      heldDirs.add(dir);
      return async () => {
        heldDirs.delete(dir);
        // Only remove the file if it is still ours.
        if (sameOwner(await readLockOwner(lockPath), me)) await unlink(lockPath).catch(() => {});
      };
    }
    const holder = await readLockOwner(lockPath);
    if (holder && (await isOwnerRunning(holder))) throw new DatabaseLockedError(holder.pid, dir);
    await takeOverStaleLock(lockPath, holder);
  }
  const holder = await readLockOwner(lockPath);
  throw new DatabaseLockedError(holder?.pid ?? 0, dir);
}

/** Write the content to a private file, then hard-link it into place: the lock never exists half-written. */
async function createExclusive(lockPath: string, content: string): Promise<boolean> {
  const tmp = `${lockPath}.${process.pid}.tmp`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, lockPath);
    return true;
  } catch (err) {
    if (errnoCode(err) === "EEXIST") return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/**
 * Move the stale file aside atomically and check that what we moved is the stale lock we saw; if another
 * process took the lock over in between, put its file back so that it keeps the lock.
 */
async function takeOverStaleLock(lockPath: string, stale: LockOwner | undefined): Promise<void> {
  const claim = `${lockPath}.${process.pid}.stale`;
  try {
    await rename(lockPath, claim);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw err;
  }
  const moved = await readLockOwner(claim);
  if (moved && !sameOwner(moved, stale) && (await isOwnerRunning(moved))) {
    await link(claim, lockPath).catch(() => {});
  }
  await unlink(claim).catch(() => {});
}

async function readLockOwner(path: string): Promise<LockOwner | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
  const [pidLine, startLine] = text.split("\n");
  const pid = Number.parseInt(pidLine ?? "", 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, start: startLine?.trim() || undefined };
}

function sameOwner(a: LockOwner | undefined, b: LockOwner | undefined): boolean {
  return a !== undefined && b !== undefined && a.pid === b.pid && a.start === b.start;
}

async function isOwnerRunning(owner: LockOwner): Promise<boolean> {
  // Our own pid in a lock this process does not hold: left by an earlier life of this pid (a restart).
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    if (errnoCode(err) !== "EPERM") return false;
  }
  if (owner.start === undefined) return true;
  const start = await processStart(owner.pid);
  return start === undefined || start === owner.start;
}

/** Field 22 of /proc/<pid>/stat, where there is a /proc (Linux); undefined elsewhere. */
async function processStart(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may contain spaces: count from after it.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : undefined;
}

/**
 * The `drizzle/` folder of this package, found by walking up from this file, so that it resolves from
 * `src/db/` (vitest, tsx) and from `dist/src/db/` (compiled) alike.
 */
export function migrationsFolder(): string {
  let dir = import.meta.dirname;
  for (;;) {
    if (existsSync(join(dir, "drizzle", "meta", "_journal.json"))) return join(dir, "drizzle");
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No drizzle/ migrations folder above ${import.meta.dirname}`);
    dir = parent;
  }
}

/**
 * Rows of a raw query on either driver: postgres.js returns an array, PGlite `{ rows }`.
 * Note that raw queries return bigint columns as strings on postgres.js and as numbers on PGlite:
 * convert with `Number()` (or select them `::float8`).
 */
export async function queryRows<T = Record<string, unknown>>(
  db: Database,
  query: SQLWrapper | string,
): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

/**
 * Run a fixed SQL text with positional parameters (`$1`, `$2`, …) as a prepared statement: postgres.js
 * parses and plans it once per connection and then only binds, which matters on hot paths (a reservation).
 * Works on either driver and inside a transaction (`db` may be one). Same row shapes as `queryRows`.
 */
export async function queryPrepared<T = Record<string, unknown>>(
  db: Database,
  name: string,
  text: string,
  params: readonly unknown[],
): Promise<T[]> {
  const prepared = db._.session.prepareQuery({ sql: text, params: [...params] }, undefined, name, false);
  return rowsOf<T>(await prepared.execute());
}

function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] } | undefined)?.rows ?? []) as T[];
}

/**
 * The SQLSTATE of a database error from either driver, looking through drizzle's `DrizzleQueryError`
 * wrapper (e.g. "23505" for a unique violation).
 */
export function pgErrorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    // Both drivers' server errors carry `severity`; that tells a SQLSTATE from a Node errno like "EPIPE".
    const { code, severity } = current as { code?: unknown; severity?: unknown };
    if (typeof code === "string" && typeof severity === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}

export function isUniqueViolation(err: unknown): boolean {
  return pgErrorCode(err) === "23505";
}
