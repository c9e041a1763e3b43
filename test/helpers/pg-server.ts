/**
 * A private PostgreSQL server for one test: its own data directory, port and socket directory, so that a test
 * can kill its backends, stop it (fast or immediate, as a crash would) and start it again without touching
 * the shared server at TEST_DATABASE_URL. Needs the server binaries (`initdb`, `postgres`); a suite skips
 * itself with `it.skipIf(!PG_SERVER_AVAILABLE)` where they are missing. Free of vitest imports.
 *
 *   const pg = await startPgServer();
 *   try {
 *     // … the code under test on pg.url …
 *     await pg.terminateBackends({ applicationName: "kling-discord-bot" });
 *     await pg.stop({ mode: "immediate" });
 *     await pg.start();
 *   } finally {
 *     await pg.close();
 *   }
 *
 * Postgres refuses to run as root: when the test runs as root (CI, the dev container), initdb and the server
 * run as the `postgres` user (or PG_SERVER_USER), which owns the temporary directory.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

const BIN_DIR = process.env.PG_BIN_DIR?.trim() || "/usr/local/bin";
const INITDB = join(BIN_DIR, "initdb");
const POSTGRES = join(BIN_DIR, "postgres");
const RUN_AS = process.env.PG_SERVER_USER?.trim() || "postgres";
/** The database `url` points at, created on the first start. */
const DATABASE = "kdb";
const ADMIN_APP = "pg-server-helper";

/** Why a private server cannot be started here, or undefined if it can. */
export const PG_SERVER_UNAVAILABLE: string | undefined = (() => {
  for (const bin of [INITDB, POSTGRES]) if (!existsSync(bin)) return `${bin} not found (set PG_BIN_DIR)`;
  if (process.getuid?.() === 0 && userIds(RUN_AS) === undefined)
    return `running as root and there is no user "${RUN_AS}" to run Postgres as (set PG_SERVER_USER)`;
  return undefined;
})();
export const PG_SERVER_AVAILABLE = PG_SERVER_UNAVAILABLE === undefined;

export type StopMode = "fast" | "immediate";

export interface TerminateFilter {
  /** Default: the database of `url`. */
  database?: string;
  applicationName?: string;
}

export interface PgServer {
  /** `postgres://…@127.0.0.1:<port>/kdb`: stays the same across stop and start. */
  readonly url: string;
  readonly port: number;
  readonly running: boolean;
  /** Start the server (again) and wait until it accepts connections. A no-op if it runs. */
  start(): Promise<void>;
  /**
   * Stop the server and wait until it has exited. `fast` (default): clients are disconnected, a clean
   * shutdown. `immediate`: every process quits at once, as in a crash; the next start recovers from the WAL.
   */
  stop(options?: { mode?: StopMode }): Promise<void>;
  restart(options?: { mode?: StopMode }): Promise<void>;
  /**
   * `pg_terminate_backend` every client backend of the database (and application_name, if given) other than
   * the helper's own; resolves with how many were terminated.
   */
  terminateBackends(filter?: TerminateFilter): Promise<number>;
  /** The last lines the server wrote to stderr (its log), for a failure message. */
  log(): string;
  /** Stop the server (immediate) and remove its directory. */
  close(): Promise<void>;
}

export interface PgServerOptions {
  /** Extra `-c name=value` settings, e.g. `{ max_connections: "50" }`. */
  settings?: Record<string, string>;
}

export async function startPgServer(options: PgServerOptions = {}): Promise<PgServer> {
  if (PG_SERVER_UNAVAILABLE) throw new Error(`cannot start a private Postgres: ${PG_SERVER_UNAVAILABLE}`);
  const ids = process.getuid?.() === 0 ? userIds(RUN_AS) : undefined;
  const user = ids ? RUN_AS : currentUser();
  const root = await mkdtemp(join(tmpdir(), "kdb-pgserver-"));
  const dataDir = join(root, "data");
  const socketDir = join(root, "socket");
  await mkdir(socketDir);
  if (ids) {
    await chown(root, ids.uid, ids.gid);
    await chown(socketDir, ids.uid, ids.gid);
  }
  const spawnAs = ids ? { uid: ids.uid, gid: ids.gid } : {};
  const port = await freePort();
  const url = `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${DATABASE}`;
  const adminUrl = `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/postgres`;

  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let logTail: string[] = [];
  let admin: postgres.Sql | undefined;
  let created = false;

  await run(
    INITDB,
    ["-D", dataDir, "-U", user, "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C"],
    spawnAs,
  );

  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: socketDir,
    // No fsync (a killed server's writes survive in the OS cache), but commits stay synchronous: with
    // `synchronous_commit=off` an immediate stop loses the last commits, which is not the crash under test.
    fsync: "off",
    full_page_writes: "off",
    max_connections: "100",
    shared_buffers: "32MB",
    ...options.settings,
  };

  const closeAdmin = async () => {
    const a = admin;
    admin = undefined;
    await a?.end({ timeout: 1 }).catch(() => undefined);
  };

  const adminSql = () => {
    admin ??= postgres(adminUrl, {
      max: 1,
      onnotice: () => {},
      connect_timeout: 5,
      connection: { application_name: ADMIN_APP },
    });
    return admin;
  };

  const server: PgServer = {
    url,
    port,
    get running() {
      return proc !== undefined;
    },

    async start() {
      if (proc) return;
      const args = ["-D", dataDir, "-p", String(port)];
      for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
      const child = spawn(POSTGRES, args, { ...spawnAs, stdio: ["ignore", "ignore", "pipe"] });
      logTail = [];
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
        logTail.push(...chunk.split("\n").filter(Boolean));
        if (logTail.length > 200) logTail = logTail.slice(-100);
      });
      proc = child;
      exited = new Promise((resolve) =>
        child.once("exit", () => {
          if (proc === child) proc = undefined;
          resolve();
        }),
      );
      try {
        await waitReady(adminSql, () => proc === child, 30_000);
      } catch (err) {
        await server.stop({ mode: "immediate" });
        throw new Error(`private Postgres did not start: ${(err as Error).message}\n${server.log()}`);
      }
      if (!created) {
        await adminSql().unsafe(`create database ${DATABASE}`);
        created = true;
      }
    },

    async stop({ mode = "fast" } = {}) {
      await closeAdmin();
      const child = proc;
      if (!child) return;
      // SIGINT is the postmaster's fast shutdown, SIGQUIT its immediate one (what `pg_ctl stop -m` sends).
      child.kill(mode === "immediate" ? "SIGQUIT" : "SIGINT");
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    },

    async restart(opts) {
      await server.stop(opts);
      await server.start();
    },

    async terminateBackends(filter = {}) {
      const database = filter.database ?? DATABASE;
      const app = filter.applicationName ?? null;
      const rows = await adminSql()<{ n: number }[]>`
        select count(*)::int as n from (
          select pg_terminate_backend(pid) from pg_stat_activity
          where pid <> pg_backend_pid() and backend_type = 'client backend'
            and datname = ${database} and (${app}::text is null or application_name = ${app}::text)
        ) t`;
      return rows[0]?.n ?? 0;
    },

    log() {
      return logTail.slice(-40).join("\n");
    },

    async close() {
      try {
        await server.stop({ mode: "immediate" });
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  };

  try {
    await server.start();
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  return server;
}

/** Poll until the server answers a query (a refused connection just means: not yet). */
async function waitReady(sql: () => postgres.Sql, alive: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw new Error("the server exited");
    try {
      await sql()`select 1`;
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function run(cmd: string, args: string[], ids: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...ids, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr!.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}:\n${output}`)),
    );
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8", stdio: "pipe" }).trim());
    const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8", stdio: "pipe" }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

function currentUser(): string {
  try {
    return execFileSync("id", ["-un"], { encoding: "utf8", stdio: "pipe" }).trim();
  } catch {
    return process.env.USER ?? "postgres";
  }
}
