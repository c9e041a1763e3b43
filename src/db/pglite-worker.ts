/**
 * The embedded Postgres (PGlite) in a worker thread of its own, so that its work (Postgres compiled to
 * WebAssembly, and the wire protocol around it) never holds up the bot's event loop: a burst of commands is
 * answered while the database works through their statements. `pglite-thread.ts` is the other side.
 *
 * Requests are run one at a time, in the order they arrive, except that while a transaction is open only its
 * own requests run (PGlite is a single connection); the rest wait their turn. So the main thread may send a
 * transaction's statements without waiting for the previous answer, and they run back to back.
 *
 * Loaded by Node directly (also from `src/` under the test runner, which strips the types): it imports nothing
 * of this package, and uses only erasable TypeScript.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Results, Transaction } from "@electric-sql/pglite";
import { PGlite } from "@electric-sql/pglite";

export interface WorkerOptions {
  /** A folder, or `memory://…` for an in-memory database. */
  dataDir: string;
  /** Extra Postgres settings (`-c name=value` pairs) after PGlite's own. */
  settings: readonly string[];
  /** A dump (`dumpDataDir`) to start from. */
  loadDataDir?: Blob;
}

export type Request = { id: number } & (
  | {
      op: "query";
      sql: string;
      params: unknown[];
      rowMode: "array" | "object" | undefined;
      /** Types whose text the caller parses itself (returned as text). */
      raw: number[];
      tx?: number;
    }
  | { op: "exec"; sql: string; tx?: number }
  | { op: "begin" | "commit" | "rollback"; tx: number }
  | { op: "dump" | "close"; tx?: undefined }
);

export type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: Record<string, unknown> }
  | { ready: true }
  | { ready: false; error: Record<string, unknown> };

const port = parentPort!;
const options = workerData as WorkerOptions;

/** An error's own plain fields (SQLSTATE `code`, `severity`, `detail`, `constraint`…), for the main thread. */
function plainError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  for (const [key, value] of Object.entries(err)) {
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) out[key] = value;
  }
  return out;
}

const ROLLBACK = Symbol("rollback");

interface OpenTransaction {
  id: number;
  tx: Transaction;
  end(commit: boolean): void;
  done: Promise<unknown>;
}

async function main(): Promise<void> {
  const pg = new PGlite(options.dataDir, {
    startParams: [...PGlite.defaultStartParams, ...options.settings.flatMap((s) => ["-c", s])],
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });
  await pg.waitReady;
  // PGlite merges a query's own parsers into its table on every query; the table for a set of types read as
  // text is made once instead (the main thread asks for the same set every time).
  const defaultParsers = pg.parsers;
  const parserTables = new Map<string, typeof defaultParsers>();
  const keepAsText = (value: string) => value;
  const parsersFor = (raw: number[]) => {
    const key = raw.join(",");
    let table = parserTables.get(key);
    if (!table) {
      table = { ...defaultParsers };
      for (const type of raw) table[type] = keepAsText;
      parserTables.set(key, table);
    }
    return table;
  };

  let open: OpenTransaction | undefined;
  const waiting: Request[] = [];
  let running = false;

  const runner = (r: Request) => (r.tx !== undefined && open?.id === r.tx ? open.tx : pg);

  async function run(r: Request): Promise<unknown> {
    switch (r.op) {
      case "query": {
        pg.parsers = parsersFor(r.raw);
        const result: Results = await runner(r).query(r.sql, r.params, { rowMode: r.rowMode });
        const { rows, fields, affectedRows } = result;
        return { rows, fields, affectedRows };
      }
      case "exec":
        return (await runner(r).exec(r.sql)).map(({ rows, fields, affectedRows }) => ({
          rows,
          fields,
          affectedRows,
        }));
      case "begin": {
        let began!: (tx: Transaction) => void;
        const ready = new Promise<Transaction>((resolve) => {
          began = resolve;
        });
        let end!: (commit: boolean) => void;
        const ended = new Promise<boolean>((resolve) => {
          end = resolve;
        });
        const done = pg.transaction(async (tx) => {
          began(tx);
          if (!(await ended)) throw ROLLBACK;
        });
        // A BEGIN that fails never calls back: `done` rejects first.
        const tx = await Promise.race([ready, done.then(() => Promise.reject(new Error("BEGIN failed")))]);
        open = { id: r.tx, tx, end, done };
        return undefined;
      }
      case "commit":
      case "rollback": {
        const t = open!;
        open = undefined;
        t.end(r.op === "commit");
        try {
          await t.done;
        } catch (err) {
          if (err !== ROLLBACK) throw err;
        }
        return undefined;
      }
      case "dump":
        return pg.dumpDataDir("none");
      case "close":
        await pg.close();
        return undefined;
    }
  }

  /** The next request that may run now: the open transaction's own, or (none open) the first in line. */
  function next(): Request | undefined {
    const i = open ? waiting.findIndex((r) => r.tx === open!.id) : 0;
    return i < 0 ? undefined : waiting.splice(i, 1)[0];
  }

  async function pump(): Promise<void> {
    if (running) return;
    running = true;
    try {
      for (let r = next(); r; r = next()) {
        let reply: Reply;
        if (!open && r.tx !== undefined && r.op !== "begin") {
          reply = { id: r.id, ok: false, error: { message: `transaction ${r.tx} is not open` } };
        } else {
          try {
            reply = { id: r.id, ok: true, result: await run(r) };
          } catch (err) {
            reply = { id: r.id, ok: false, error: plainError(err) };
          }
        }
        port.postMessage(reply);
      }
    } finally {
      running = false;
    }
  }

  port.on("message", (r: Request) => {
    waiting.push(r);
    void pump();
  });
  port.postMessage({ ready: true } satisfies Reply);
}

main().catch((err) => port.postMessage({ ready: false, error: plainError(err) } satisfies Reply));
