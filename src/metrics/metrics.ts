import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/database.js";
import { withTimeout } from "../health/timeout.js";
import type { KlingCallInfo } from "../kling/client.js";
import type { Logger } from "../log.js";
import {
  type GuildCredits,
  type JobFigures,
  readGuildCredits,
  readJobFigures,
  topGuilds,
} from "./database.js";

/**
 * The Prometheus metrics of one process (prom-client), in a registry of its own. Names of the bot's own
 * families start with `klingbot_`; the default process and Node.js families keep their standard names
 * (`process_*`, `nodejs_*`) so that the usual dashboards and alerts work unchanged.
 *
 * Three kinds of figures: counted as they happen (Kling calls; Discord errors and interaction answers, see
 * discord.ts), read from the database at scrape time (jobs, queue, credits), and the process's own.
 */

export const METRIC_PREFIX = "klingbot_";

/** A scrape waits at most this long for the database; the figures are then left out of that scrape. */
const DATABASE_TIMEOUT_MS = 5_000;

export interface MetricsOptions {
  logger: Logger;
  /** Servers with their own label in the credit families; the rest are summed as "other". */
  topGuilds: number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly discordErrors: Counter<"status" | "code">;
  readonly deferral: Histogram<"kind" | "outcome">;
  readonly #klingCalls: Counter<"endpoint" | "outcome">;
  readonly #klingLatency: Histogram<"endpoint" | "outcome">;
  readonly #logger: Logger;
  readonly #topGuilds: number;
  #db: Database | undefined;
  #reading: Promise<Snapshot | undefined> | undefined;
  #failing = false;

  constructor(options: MetricsOptions) {
    this.#logger = options.logger;
    this.#topGuilds = options.topGuilds;
    const registers = [this.registry];
    // A coarser event-loop sampling than the 10 ms default: 10 wake-ups a second instead of 100 on an idle bot.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });

    this.#klingCalls = new Counter({
      name: `${METRIC_PREFIX}kling_calls_total`,
      help: "HTTP attempts to the Kling API, by endpoint and outcome (ok, or the error code)",
      labelNames: ["endpoint", "outcome"],
      registers,
    });
    this.#klingLatency = new Histogram({
      name: `${METRIC_PREFIX}kling_call_duration_seconds`,
      help: "Time of one HTTP attempt to the Kling API, from sending to the last byte (rate-limit wait excluded)",
      labelNames: ["endpoint", "outcome"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.discordErrors = new Counter({
      name: `${METRIC_PREFIX}discord_rest_errors_total`,
      help: "Discord REST answers with an HTTP error, by status and Discord's JSON error code (none: no code)",
      labelNames: ["status", "code"],
      registers,
    });
    this.deferral = new Histogram({
      name: `${METRIC_PREFIX}discord_deferral_seconds`,
      help:
        "From the interaction's creation (its snowflake) to Discord's answer to the bot's first response " +
        "(kind: defer, update, reply, autocomplete, modal); Discord allows 3 s",
      labelNames: ["kind", "outcome"],
      buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 5],
      registers,
    });

    const snapshot = () => this.#read();
    new Gauge({
      name: `${METRIC_PREFIX}jobs`,
      help: "Jobs in the database by state (every process reports the same figures)",
      labelNames: ["state"],
      registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        if (!s) return;
        for (const [state, n] of Object.entries(s.jobs.byState)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}queue_length`,
      help: "Jobs accepted and not yet sent to the Kling API (pending, not waiting for a manager's approval)",
      registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        this.set(s ? s.jobs.queued : Number.NaN);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}queue_oldest_wait_seconds`,
      help: "How long the oldest job of the queue has waited since it was accepted (0: none waits)",
      registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        this.set(s ? s.jobs.oldestWaitSeconds : Number.NaN);
      },
    });
    const creditGauge = (name: string, help: string, pick: (g: GuildCredits) => number) =>
      new Gauge({
        name: `${METRIC_PREFIX}${name}`,
        help,
        labelNames: ["guild"],
        registers,
        async collect() {
          this.reset();
          const s = await snapshot();
          for (const g of s?.credits ?? []) this.set({ guild: g.guildId }, pick(g));
        },
      });
    const bounded = `(the ${options.topGuilds} servers with the most credits moved; the rest summed as "other")`;
    creditGauge(
      "credits_held",
      `Credits held right now by unsettled jobs, per server ${bounded}`,
      (g) => g.held,
    );
    creditGauge(
      "credits_captured",
      `Credits charged for delivered videos since the first job, per server ${bounded}`,
      (g) => g.captured,
    );
    creditGauge(
      "credits_released",
      `Credits given back for failed jobs since the first job, per server ${bounded}`,
      (g) => g.released,
    );
  }

  /** The database the scrape-time families read; without one they are empty. */
  attachDatabase(db: Database): void {
    this.#db = db;
  }

  /** The Kling client's `onCall` hook. */
  readonly klingCall = (call: KlingCallInfo): void => {
    const labels = { endpoint: call.endpoint, outcome: call.outcome };
    this.#klingCalls.inc(labels);
    this.#klingLatency.observe(labels, call.durationMs / 1000);
  };

  /** The metrics in Prometheus's text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * One read of the database per scrape, shared by every family that needs it (prom-client collects them
   * concurrently). A database that fails or does not answer leaves these families without a value for that
   * scrape (NaN for the ones without labels); the rest of the scrape still answers.
   */
  #read(): Promise<Snapshot | undefined> {
    const db = this.#db;
    if (!db) return Promise.resolve(undefined);
    // prom-client starts every family's collect in the same tick: the first starts the read, the others join it.
    if (this.#reading) return this.#reading;
    const reading = withTimeout(
      Promise.all([readJobFigures(db), readGuildCredits(db)]),
      DATABASE_TIMEOUT_MS,
      "the database did not answer",
    ).then(
      ([jobs, credits]) => {
        if (this.#failing) this.#logger.info("metrics read the database again");
        this.#failing = false;
        return { jobs, credits: topGuilds(credits, this.#topGuilds) };
      },
      (err) => {
        // Once per outage, not at every scrape.
        if (!this.#failing) this.#logger.warn({ err }, "metrics could not read the database");
        this.#failing = true;
        return undefined;
      },
    );
    this.#reading = reading.finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }
}

interface Snapshot {
  jobs: JobFigures;
  credits: GuildCredits[];
}
