import type { Database } from "../db/database.js";
import type { KlingApi } from "../kling/client.js";
import type { Logger } from "../log.js";
import type { VideoFetcher } from "./download.js";
import type { JobPort } from "./port.js";

/** What the job flow is handed by the composition root; tests hand in their own parts. */

export interface JobSettings {
  /** Today's polling interval: kinds of job without history are checked after it, then ×1.5 up to ×6. */
  pollIntervalMs: number;
  /**
   * Calls per second the Kling API allows (the rate limiter's): submits go first, status checks are planned
   * within what is left (see jobs/pacing.ts).
   */
  klingRatePerSecond: number;
  progressIntervalMs: number;
  jobTimeoutMs: number;
  maxVideoBytes: number;
  defaultGuildCredits: number;
  /** How long a claimed job stays this process's before another may take it over. */
  leaseMs: number;
  /** How many times a submit that surely never reached the API (a 429, a refused connection) is tried. */
  maxSubmitAttempts: number;
}

export interface JobServices {
  db: Database;
  kling: KlingApi;
  port: JobPort;
  download: VideoFetcher;
  logger: Logger;
  now: () => Date;
  /** Aborted when the process stops: downloads and waits end at once, their jobs stay for the next poller. */
  signal: AbortSignal;
  /** This process's lease owner name. */
  owner: string;
  /** Tell the pollers (this process's at once, others' through the database) that a job is due. */
  announce(): Promise<void>;
  /**
   * Tell the bot's operators of an incident only they can fix (in English: operators' messages), once per
   * incident `key`; the member is told only that the bot cannot make videos right now.
   */
  alert(incident: { key: string; text: string }): void;
  /** Typical run time per task type, cached for a minute (the estimate of time left); only known figures. */
  estimates: Map<string, { at: number; value: number }>;
  settings: JobSettings;
}

/** Exponential backoff with ±20 % jitter. */
export function backoff(base: number, attempt: number, cap: number): number {
  const raw = Math.min(base * 1.5 ** attempt, cap);
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}
