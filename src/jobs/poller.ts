import { and, eq, inArray, ne, or } from "drizzle-orm";
import { jobs } from "../db/schema.js";
import { isConnectionError } from "../db/transient.js";
import { Alarm } from "./alarm.js";
import { withdrawJob } from "./decide.js";
import { deliverJob } from "./deliver.js";
import { withLease } from "./lease.js";
import { pollJob } from "./poll.js";
import { claimQueuedJobs } from "./queue.js";
import { showQueuePlaces } from "./queue-places.js";
import { claimDueJobs, type JobRow, nextDueAt, releaseLease } from "./repository.js";
import type { JobServices } from "./services.js";
import { ACTIVE_STATES, type JobState } from "./states.js";
import { resolveInterruptedSubmit, submitJob } from "./submit.js";

/**
 * Jobs that wait on the API (status checks, a submit cut off by a crash, an approval that ran out), and jobs
 * that wait on a video host and Discord. Jobs waiting to be sent come through the queue (queue.ts).
 */
const API_STEPS: readonly JobState[] = ["pending", "submitting", "running"];
const DELIVERY_STEPS: readonly JobState[] = ["delivering"];
/** Of the pending jobs, the API steps take only those waiting for a manager (their wait ran out). */
const NOT_QUEUED = or(ne(jobs.state, "pending"), eq(jobs.needsApproval, true));
/** The longest a poller sleeps with nothing due: new jobs wake it sooner (in-process, or Postgres NOTIFY). */
const MAX_IDLE_MS = 5_000;
/** While the account is full, a look every so often: a place may be freed by another process. */
const FULL_ACCOUNT_RECHECK_MS = 2_000;

export interface PollerOptions {
  /** Jobs worked on at once for API steps. */
  concurrency: number;
  /** Jobs delivered at once; separate slots, so slow video hosts never hold back polling. */
  deliveryConcurrency: number;
  /** Tasks the API account runs at once, shared by every process (see queue.ts). */
  maxInFlight: number;
  /** The shortest pause between two passes that found nothing to do. */
  idleMs: number;
  /** Take over the jobs of a process that holds no presence lock (Postgres; see db/presence.ts). */
  deadOwners: boolean;
  /** Called after every pass that reached the database (the health check's sign that the loop runs). */
  onPass?: () => void;
}

/**
 * One polling loop per process. It claims due jobs with a lease (`FOR UPDATE SKIP LOCKED`), so any
 * number of processes can share one Postgres without polling or delivering a job twice, and it stops
 * cleanly: `stop()` lets the jobs in hand finish (downloads end at once through the services' stop signal),
 * then gives their leases back.
 */
export class Poller {
  private stopping = false;
  private readonly alarm = new Alarm();
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly inFlightIds = new Set<number>();
  private readonly busy = { api: 0, delivery: 0 };
  /** The last pass found jobs waiting but no free place on the API account. */
  private accountFull = false;
  private placesShownAt = 0;

  private readonly s: JobServices;
  private readonly options: PollerOptions;

  constructor(services: JobServices, options: PollerOptions) {
    this.s = services;
    this.options = options;
  }

  /** A job may be due: look now instead of at the end of the idle pause. */
  poke(): void {
    this.alarm.poke();
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.alarm.poke();
    await this.loop;
    this.loop = undefined;
    await Promise.allSettled([...this.inFlight]);
    // Give back what this process still holds, so another process need not wait for the leases to expire.
    // Never a `submitting` job: if one is left, its submit was cut off and must be resolved as interrupted.
    await this.s.db
      .update(jobs)
      .set({ leaseOwner: null, leaseExpiresAt: null })
      .where(
        and(
          eq(jobs.leaseOwner, this.s.owner),
          inArray(
            jobs.state,
            ACTIVE_STATES.filter((state) => state !== "submitting"),
          ),
        ),
      );
  }

  /** One pass: claim what is due (up to the free slots of each kind) and start working on it. */
  private async tick(): Promise<number> {
    const api = await this.claim("api", this.options.concurrency, (limit) =>
      claimDueJobs(this.s.db, { ...this.claimOptions(limit), states: API_STEPS, where: NOT_QUEUED }),
    );
    let full = false;
    const queued = await this.claim("api", this.options.concurrency, async (limit) => {
      const claimed = await claimQueuedJobs(this.s.db, {
        ...this.claimOptions(limit),
        cap: this.options.maxInFlight,
      });
      full = claimed.full;
      return claimed.jobs;
    });
    this.accountFull = full;
    const delivery = await this.claim("delivery", this.options.deliveryConcurrency, (limit) =>
      claimDueJobs(this.s.db, { ...this.claimOptions(limit), states: DELIVERY_STEPS }),
    );
    await this.showPlaces();
    return api + queued + delivery;
  }

  private claimOptions(limit: number) {
    return {
      owner: this.s.owner,
      limit,
      leaseMs: this.s.settings.leaseMs,
      now: this.s.now(),
      exclude: [...this.inFlightIds],
      deadOwners: this.options.deadOwners,
    };
  }

  /** Members whose jobs wait see their place move (at the progress-edit rate, by one process at a time). */
  private async showPlaces(): Promise<void> {
    const now = this.s.now().getTime();
    if (now - this.placesShownAt < Math.max(this.s.settings.progressIntervalMs, 1_000)) return;
    this.placesShownAt = now;
    await showQueuePlaces(this.s);
  }

  /** How long to sleep after a pass that found nothing: until the next job falls due, within bounds. */
  private async idlePause(): Promise<number> {
    const next = await nextDueAt(this.s.db, { exclude: [...this.inFlightIds], queued: !this.accountFull });
    const until = next === undefined ? MAX_IDLE_MS : next.getTime() - this.s.now().getTime();
    if (!Number.isFinite(until)) return this.options.idleMs;
    const ceiling = this.accountFull ? FULL_ACCOUNT_RECHECK_MS : MAX_IDLE_MS;
    return Math.min(Math.max(until, this.options.idleMs), ceiling);
  }

  private async claim(
    kind: "api" | "delivery",
    slots: number,
    take: (limit: number) => Promise<JobRow[]>,
  ): Promise<number> {
    const free = slots - this.busy[kind];
    if (free <= 0) return 0;
    const batch = await take(free);
    for (const job of batch) {
      this.inFlightIds.add(job.id);
      this.busy[kind] += 1;
      const work = withLease(this.s, job.id, () => this.process(job)).finally(() => {
        this.inFlight.delete(work);
        this.inFlightIds.delete(job.id);
        this.busy[kind] -= 1;
        this.poke();
      });
      this.inFlight.add(work);
    }
    return batch.length;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let claimed = 0;
      try {
        claimed = await this.tick();
        this.options.onPass?.();
        if (failures > 0) this.s.logger.info({ failures }, "poller passes work again");
        failures = 0;
      } catch (err) {
        // A database that does not answer is logged once and waited out with growing pauses, not every pass.
        if (failures === 0 || !isConnectionError(err)) this.s.logger.error({ err }, "poller pass failed");
        failures += 1;
      }
      if (this.stopping) break;
      if (failures > 0) await this.alarm.sleep(Math.min(this.options.idleMs * 2 ** failures, 5_000));
      else if (claimed === 0) await this.alarm.sleep(await this.idlePause().catch(() => this.options.idleMs));
    }
  }

  private async process(job: JobRow): Promise<void> {
    try {
      switch (job.state) {
        case "pending":
          if (job.needsApproval) {
            // Nobody decided within the wait: the credits go back.
            await withdrawJob(
              this.s,
              job.guildId,
              job.id,
              {
                code: "APPROVAL_EXPIRED",
                params: { waitedMs: this.s.now().getTime() - job.createdAt.getTime() },
              },
              { onlyAwaitingApproval: true, owner: this.s.owner },
            );
          } else {
            await submitJob(this.s, job);
          }
          break;
        case "submitting":
          await resolveInterruptedSubmit(this.s, job);
          break;
        case "running":
          await pollJob(this.s, job);
          break;
        case "delivering":
          await deliverJob(this.s, job);
          break;
        default:
          this.s.logger.warn({ jobId: job.id, state: job.state }, "claimed a job with nothing to do");
      }
    } catch (err) {
      this.s.logger.error({ err, jobId: job.id, state: job.state }, "job step failed; will retry");
      const retryAt = new Date(this.s.now().getTime() + Math.max(this.s.settings.pollIntervalMs, 5_000));
      await releaseLease(this.s.db, job.id, this.s.owner, retryAt).catch(() => undefined);
    }
  }
}
