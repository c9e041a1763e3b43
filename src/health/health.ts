import { type Client, Status } from "discord.js";
import { sql } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { withTimeout } from "./timeout.js";

/**
 * Is this process doing its job? The database answers `select 1` within a short time and, by role, the
 * Discord gateway is connected (`all`, `gateway`) and the poll loop has run within the last minute (`all`,
 * `worker`). `GET /healthz` answers 200 with the details, or 503 with the first reason that failed.
 */

export type Role = "all" | "gateway" | "worker";

export interface HealthOptions {
  role: Role;
  /** Longest wait for `select 1`. Default 2 s. */
  databaseTimeoutMs?: number;
  /** The poll loop counts as stuck when it has not run for this long. Default 60 s. */
  pollerMaxSilenceMs?: number;
  now?: () => number;
}

export interface HealthReport {
  ok: boolean;
  /** Why not, in a few words, when `ok` is false. */
  reason?: string;
  role: Role;
  database?: { ok: boolean; ms?: number; error?: string };
  gateway?: { ok: boolean; shards: Record<string, string> };
  poller?: { ok: boolean; lastRunAgoMs: number | null };
}

const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Status)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [v as number, k]),
);

export class Health {
  readonly #role: Role;
  readonly #databaseTimeoutMs: number;
  readonly #pollerMaxSilenceMs: number;
  readonly #now: () => number;
  #db: Database | undefined;
  #client: Client | undefined;
  #pollerLastRun: number | undefined;
  #ready = false;
  #startedAt = 0;
  #stopping = false;

  constructor(options: HealthOptions) {
    this.#role = options.role;
    this.#databaseTimeoutMs = options.databaseTimeoutMs ?? 2_000;
    this.#pollerMaxSilenceMs = options.pollerMaxSilenceMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** The poll loop ran (a pass, or a step it works on): called by the poller's hook. */
  readonly markPollerAlive = (): void => {
    this.#pollerLastRun = this.#now();
  };

  attachDatabase(db: Database): void {
    this.#db = db;
  }

  /** The process has started: its parts are attached and the checks apply from now on. */
  started(parts: { client?: Client | undefined } = {}): void {
    this.#client = parts.client;
    this.#ready = true;
    this.#startedAt = this.#now();
  }

  /** The process is stopping: report unhealthy, so that nothing routes work to it any more. */
  stopping(): void {
    this.#stopping = true;
  }

  async check(): Promise<HealthReport> {
    const role = this.#role;
    if (this.#stopping) return { ok: false, reason: "stopping", role };
    if (!this.#ready) return { ok: false, reason: "starting", role };
    const report: HealthReport = { ok: true, role };
    const reasons: string[] = [];

    report.database = await this.#checkDatabase();
    if (!report.database.ok) reasons.push(`database: ${report.database.error}`);

    if (role !== "worker") {
      const shards: Record<string, string> = {};
      for (const [id, shard] of this.#client?.ws.shards ?? [])
        shards[id] = STATUS_NAMES[shard.status] ?? "Unknown";
      const states = Object.values(shards);
      const ok = states.length > 0 && states.every((s) => s === "Ready");
      report.gateway = { ok, shards };
      if (!ok) reasons.push(states.length === 0 ? "gateway: not connected" : "gateway: a shard is not ready");
    }

    if (role !== "gateway") {
      const ago = this.#pollerLastRun === undefined ? null : this.#now() - this.#pollerLastRun;
      // Its first pass may still be under way just after the start: not a stuck loop yet.
      const sinceStart = this.#now() - this.#startedAt;
      const ok = ago === null ? sinceStart <= this.#pollerMaxSilenceMs : ago <= this.#pollerMaxSilenceMs;
      report.poller = { ok, lastRunAgoMs: ago };
      if (!ok) {
        reasons.push(
          ago === null
            ? "poller: has not run"
            : `poller: has not run for ${Math.round(ago / 1000)} s (limit ${this.#pollerMaxSilenceMs / 1000} s)`,
        );
      }
    }

    if (reasons.length > 0) {
      report.ok = false;
      report.reason = reasons.join("; ");
    }
    return report;
  }

  async #checkDatabase(): Promise<NonNullable<HealthReport["database"]>> {
    const db = this.#db;
    if (!db) return { ok: false, error: "not open" };
    const started = performance.now();
    try {
      await withTimeout(db.execute(sql`select 1`), this.#databaseTimeoutMs, "did not answer `select 1`");
      return { ok: true, ms: Math.round(performance.now() - started) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message.split("\n")[0] : String(err) };
    }
  }
}
