import { and, eq, inArray } from "drizzle-orm";
import { jobs } from "../db/schema.js";
import { claimDueJobs, type JobRow, releaseLease } from "./repository.js";
import {
  deliverJob,
  type JobServices,
  pollJob,
  resolveInterruptedSubmit,
  submitJob,
  withLease,
} from "./service.js";
import { ACTIVE_STATES } from "./states.js";

/**
 * One polling loop per process. It claims due jobs with a lease (`FOR UPDATE SKIP LOCKED`), so any
 * number of processes can share one Postgres without polling or delivering a job twice, and it stops
 * cleanly: `stop()` lets the jobs in hand finish, then gives their leases back.
 */
export class Poller {
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly inFlightIds = new Set<number>();

  private readonly s: JobServices;
  private readonly options: { concurrency: number; idleMs: number };

  constructor(services: JobServices, options: { concurrency: number; idleMs: number }) {
    this.s = services;
    this.options = options;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
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

  /** One pass: claim what is due (up to the free slots) and start working on it. */
  private async tick(): Promise<number> {
    const free = this.options.concurrency - this.inFlight.size;
    if (free <= 0) return 0;
    const batch = await claimDueJobs(this.s.db, {
      owner: this.s.owner,
      limit: free,
      leaseMs: this.s.settings.leaseMs,
      now: this.s.now(),
      exclude: [...this.inFlightIds],
    });
    for (const job of batch) {
      this.inFlightIds.add(job.id);
      const work = withLease(this.s, job.id, () => this.process(job)).finally(() => {
        this.inFlight.delete(work);
        this.inFlightIds.delete(job.id);
        this.wake?.();
      });
      this.inFlight.add(work);
    }
    return batch.length;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let claimed = 0;
      try {
        claimed = await this.tick();
      } catch (err) {
        this.s.logger.error({ err }, "poller pass failed");
      }
      if (this.stopping) break;
      if (claimed === 0) await this.sleep(this.options.idleMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private async process(job: JobRow): Promise<void> {
    try {
      switch (job.state) {
        case "pending":
          await submitJob(this.s, job);
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
