import { Worker } from "node:worker_threads";
import type { PGlite, QueryOptions, Results, Transaction } from "@electric-sql/pglite";
import type { Reply, Request, WorkerOptions } from "./pglite-worker.js";

/**
 * PGlite run in a worker thread (pglite-worker.ts), seen from the bot's thread: the part of PGlite's interface
 * that drizzle uses (`query`, `transaction`, `exec`, `close`), one message per statement. Measured on a burst
 * of 500 commands, PGlite on the bot's own event loop made every deferral wait behind the SQL of the commands
 * before it; here the event loop only sends statements and reads rows.
 *
 * PGlite ships a worker of its own (`@electric-sql/pglite/worker`), made for browser tabs: it elects a leader
 * over BroadcastChannel and sends each of the six protocol messages of a query as a separate call. This one
 * sends whole statements, and a transaction's statements without waiting for each answer (the worker runs
 * them in order while the transaction holds the connection).
 */

type Call = Request extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** The error as PGlite threw it in the worker: its message and its fields (`code`, `severity`, …). */
function rebuild(fields: Record<string, unknown>): Error {
  const err = new Error(String(fields.message ?? "PGlite worker error"));
  Object.assign(err, fields);
  return err;
}

/** Under the test runner this file is TypeScript, and so is its worker; compiled, both are JavaScript. */
function workerUrl(): URL {
  return new URL(
    import.meta.url.endsWith(".ts") ? "./pglite-worker.ts" : "./pglite-worker.js",
    import.meta.url,
  );
}

/** Apply the caller's parsers to the columns the worker returned as text. */
function parse(result: Results, options: QueryOptions | undefined): Results {
  const parsers = options?.parsers;
  if (!parsers || !result.fields.some((f) => parsers[f.dataTypeID])) return result;
  const columns = result.fields.map((f, i) => ({ key: options?.rowMode === "array" ? i : f.name, f }));
  for (const row of result.rows as Record<string | number, unknown>[]) {
    for (const { key, f } of columns) {
      const parser = parsers[f.dataTypeID];
      const value = row[key];
      if (parser && typeof value === "string") row[key] = parser(value);
    }
  }
  return result;
}

export class PGliteThread {
  /** Resolved: `open` returns once the database is ready. */
  readonly waitReady: Promise<void> = Promise.resolve();
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  #transactions = 0;
  #closed = false;
  #failure: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  static async open(options: WorkerOptions): Promise<PGliteThread> {
    const worker = new Worker(workerUrl(), { workerData: options });
    const thread = new PGliteThread(worker);
    await new Promise<void>((resolve, reject) => {
      worker.on("message", (reply: Reply) => {
        if ("ready" in reply) {
          if (reply.ready) resolve();
          else reject(rebuild(reply.error));
          return;
        }
        thread.#settle(reply);
      });
      const fail = (err: Error) => {
        thread.#fail(err);
        reject(err);
      };
      worker.on("error", fail);
      worker.on("exit", (code) => fail(new Error(`the PGlite worker stopped (exit code ${code})`)));
    }).catch(async (err) => {
      await worker.terminate();
      throw err;
    });
    worker.unref();
    return thread;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #settle(reply: Extract<Reply, { id: number }>): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    // The worker keeps the process alive only while an answer is awaited (like a socket with a query on it).
    if (this.#pending.size === 0) this.#worker.unref();
    if (reply.ok) pending.resolve(reply.result);
    else pending.reject(rebuild(reply.error));
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#failure ??= err;
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
  }

  #call(call: Call): Promise<unknown> {
    if (this.#closed && call.op !== "close") return Promise.reject(new Error("PGlite is closed"));
    if (this.#failure) return Promise.reject(this.#failure);
    const id = ++this.#seq;
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...call, id } as Request);
    });
  }

  async #query<T>(sql: string, params: unknown[], options: QueryOptions | undefined, tx?: number) {
    if (options?.serializers || options?.blob || options?.paramTypes || options?.onNotice) {
      throw new Error("PGliteThread.query: serializers, blob, paramTypes and onNotice are not supported");
    }
    const raw = options?.parsers ? Object.keys(options.parsers).map(Number) : [];
    const result = (await this.#call({
      op: "query",
      sql,
      params,
      rowMode: options?.rowMode,
      raw,
      ...(tx === undefined ? {} : { tx }),
    })) as Results<T>;
    return parse(result as Results, options) as Results<T>;
  }

  query<T>(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    return this.#query<T>(sql, params, options);
  }

  async exec(sql: string): Promise<Results[]> {
    return (await this.#call({ op: "exec", sql })) as Results[];
  }

  /**
   * BEGIN goes out with the transaction's first statement, COMMIT (or ROLLBACK when `fn` throws) right after
   * `fn`'s last; other statements wait in the worker until then.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const id = ++this.#transactions;
    const begun = this.#call({ op: "begin", tx: id });
    begun.catch(() => undefined);
    let closed = false;
    const unsupported = () => {
      throw new Error("PGliteThread transactions support query, exec and rollback");
    };
    const tx = {
      query: <R>(sql: string, params: unknown[] = [], options?: QueryOptions) =>
        this.#query<R>(sql, params, options, id),
      exec: async (sql: string) => (await this.#call({ op: "exec", sql, tx: id })) as Results[],
      rollback: async () => {
        closed = true;
        await this.#call({ op: "rollback", tx: id });
      },
      get closed() {
        return closed;
      },
      sql: unsupported,
      listen: unsupported,
    } as unknown as Transaction;
    try {
      const result = await fn(tx);
      await begun;
      if (!closed) {
        closed = true;
        await this.#call({ op: "commit", tx: id });
      }
      return result;
    } catch (err) {
      // A failed BEGIN is the cause of whatever the statements after it reported.
      const beginError = await begun.then(
        () => undefined,
        (e: unknown) => e,
      );
      if (beginError) throw beginError;
      if (!closed) {
        closed = true;
        await this.#call({ op: "rollback", tx: id }).catch(() => undefined);
      }
      throw err;
    }
  }

  /** The database's files as a tarball (PGlite's `dumpDataDir`), e.g. to start other databases from. */
  async dumpDataDir(): Promise<Blob> {
    return (await this.#call({ op: "dump" })) as Blob;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#call({ op: "close" });
    } finally {
      this.#closed = true;
      await this.#worker.terminate();
    }
  }

  /** For drizzle, which is typed for PGlite itself and uses only the part above. */
  asPGlite(): PGlite {
    return this as unknown as PGlite;
  }
}
