import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { creditLedger, jobs } from "../../src/db/schema.js";
import { acceptVideoRequest, handOverJob } from "../../src/jobs/accept.js";
import { deliverJob } from "../../src/jobs/deliver.js";
import { withLease } from "../../src/jobs/lease.js";
import { pollJob } from "../../src/jobs/poll.js";
import type { Failure, FinishedVideo, JobPort, Posted } from "../../src/jobs/port.js";
import { claimDueJobs, type JobRow } from "../../src/jobs/repository.js";
import type { JobServices } from "../../src/jobs/services.js";
import { submitJob } from "../../src/jobs/submit.js";
import { KlingClient } from "../../src/kling/client.js";
import { type KlingSimulator, startKlingSimulator } from "../../src/kling-sim/server.js";
import { checkInvariants, ensureGuild, getBalance } from "../../src/ledger/index.js";
import { updateSettings } from "../../src/moderation/store.js";
import type { VideoRequest } from "../../src/video/validate.js";
import { openTestDatabase, type TestDatabase, testDrivers } from "../helpers/db.js";
import { testJobServices } from "../helpers/job-services.js";

/**
 * The job flow on its own: a real database and the simulator over HTTP, but no Discord — a port that records
 * what the flow tells it — and a clock the test moves, so time limits, retries and throttling are tested
 * without sleeping.
 */

type Event =
  | { kind: "waiting"; jobId: number; place: number }
  | { kind: "progress"; jobId: number; elapsedMs: number }
  | { kind: "delivered"; jobId: number; video: FinishedVideo; charged: number }
  | { kind: "failed"; jobId: number; failure: Failure };

class RecordingPort implements JobPort {
  events: Event[] = [];
  limit = 10 * 1024 * 1024;
  /** Throw from `delivered`, as an adapter does when Discord refuses the message. */
  refuseDelivery = false;
  attachmentLimit(): number {
    return this.limit;
  }
  async waiting(job: JobRow, info: { place: number }): Promise<Posted> {
    this.events.push({ kind: "waiting", jobId: job.id, place: info.place });
    return {};
  }
  async progress(job: JobRow, info: { elapsedMs: number }): Promise<Posted> {
    this.events.push({ kind: "progress", jobId: job.id, elapsedMs: info.elapsedMs });
    return {};
  }
  async delivered(job: JobRow, info: { video: FinishedVideo; charged: number }): Promise<Posted> {
    if (this.refuseDelivery) throw new Error("refused");
    this.events.push({ kind: "delivered", jobId: job.id, video: info.video, charged: info.charged });
    return { messageId: `m${job.id}` };
  }
  async failed(job: JobRow, failure: Failure): Promise<Posted> {
    this.events.push({ kind: "failed", jobId: job.id, failure });
    return {};
  }
  of(jobId: number, kind: Event["kind"]) {
    return this.events.filter((e) => e.jobId === jobId && e.kind === kind);
  }
}

const GUILD = "910000000000000001";
const KEY = "flow-test-key";
const REQUEST: VideoRequest = {
  generate: {
    type: "std-text-to-video",
    prompt: "a lantern",
    duration: 5,
    aspectRatio: "16:9",
    sound: false,
  },
  display: {
    subcommand: "text",
    model: "std",
    prompt: "a lantern",
    duration: 5,
    aspectRatio: "16:9",
    sound: false,
  },
};

describe.each(testDrivers())("the job flow on its own on %s", (driver) => {
  let database: TestDatabase;
  let sim: KlingSimulator;
  let kling: KlingClient;
  let port: RecordingPort;
  let clock: Date;
  let s: JobServices;
  let interaction = 0;
  let alerts: { key: string; text: string }[] = [];

  beforeAll(async () => {
    database = await openTestDatabase(driver);
    // Tasks never finish by themselves; a test ends them with `sim.finish`.
    sim = await startKlingSimulator({ apiKey: KEY, taskDurationMs: 3_600_000 });
    kling = new KlingClient({
      baseUrl: sim.url,
      apiKey: KEY,
      ratePerSecond: 1000,
      backoffBaseMs: 1,
      backoffCapMs: 5,
    });
    await ensureGuild(database.db, GUILD, 1_000_000);
    // Many jobs of one member at once: the server's limits are set out of the way.
    await updateSettings(database.db, GUILD, () => ({ memberJobs: 50, serverJobs: 500 }), 0);
  });
  afterAll(async () => {
    await kling?.close();
    await sim?.close();
    await database?.close();
  });
  beforeEach(() => {
    alerts = [];
    port = new RecordingPort();
    clock = new Date("2026-06-01T12:00:00Z");
    s = testJobServices({
      db: database.db,
      kling,
      port,
      videoOrigin: sim.url,
      now: () => clock,
      owner: "flow-test",
      alert: (incident) => alerts.push(incident),
    });
  });
  afterEach(async () => {
    await s.download.close();
    expect((await checkInvariants(database.db)).problems).toEqual([]);
  });

  const advance = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };

  /** Claim the job as the poller would (it must be due and free), or fail the test. */
  async function claim(jobId: number): Promise<JobRow> {
    const [job] = await claimDueJobs(database.db, {
      owner: s.owner,
      limit: 1000,
      leaseMs: 60_000,
      now: clock,
    }).then((rows) => rows.filter((r) => r.id === jobId));
    if (!job) throw new Error(`job ${jobId} is not due at ${clock.toISOString()}`);
    return job;
  }

  async function row(jobId: number): Promise<JobRow> {
    const [job] = await database.db.select().from(jobs).where(eq(jobs.id, jobId));
    return job!;
  }

  /** A job accepted (not yet handed over) for the test member, in `locale`. */
  async function acceptJob(locale = "en"): Promise<JobRow> {
    const accepted = await acceptVideoRequest(s, {
      interactionId: `flow-${driver}-${++interaction}`,
      guildId: GUILD,
      channelId: "910000000000000002",
      userId: "910000000000000003",
      locale,
      applicationId: "910000000000000004",
      interactionToken: "token",
      tokenExpiresAt: new Date(clock.getTime() + 15 * 60_000),
      request: REQUEST,
      delivery: { attachmentSizeLimit: 10 * 1024 * 1024 },
      place: { memberRoleIds: [] },
    });
    if (accepted.kind !== "accepted") throw new Error(accepted.kind);
    return accepted.job;
  }

  /** A job accepted, handed over and submitted: running on the simulator. */
  async function runningJob(): Promise<JobRow> {
    const job = await acceptJob();
    await handOverJob(s, job, undefined);
    const running = await submitJob(s, await claim(job.id));
    expect(running?.state).toBe("running");
    return running!;
  }

  it("is not due before it is handed over, and is due at once after", async () => {
    const accepted = { job: await acceptJob("ja") };
    await handOverJob(s, accepted.job, "reply-1");
    const job = await claim(accepted.job.id);
    expect(job.replyMessageId).toBe("reply-1");
    await submitJob(s, job);
  });

  it("fails a job that runs past the time limit, with the real time waited, and returns its credits", async () => {
    const job = await runningJob();
    const before = await getBalance(database.db, GUILD);
    advance(31 * 60_000);
    await pollJob(s, await claim(job.id));
    const [failed] = port.of(job.id, "failed");
    expect(failed).toMatchObject({ failure: { code: "TIMED_OUT", params: { limitMs: 30 * 60_000 } } });
    expect((failed as { failure: { params: { waitedMs: number } } }).failure.params.waitedMs).toBe(
      31 * 60_000,
    );
    expect((await row(job.id)).state).toBe("failed");
    expect(await getBalance(database.db, GUILD)).toBe(before + job.estimatedCost);
  });

  it("edits progress only when the interval passed and what it shows changed", async () => {
    const job = await runningJob();
    port.events = [];
    advance(5_000);
    await pollJob(s, await claim(job.id));
    expect(port.of(job.id, "progress")).toHaveLength(0);
    advance(7_000); // 12 s after submit: due, and "10 s elapsed" is new
    await pollJob(s, await claim(job.id));
    expect(port.of(job.id, "progress")).toHaveLength(1);
    advance(60_000);
    await pollJob(s, await claim(job.id));
    expect(port.of(job.id, "progress")).toHaveLength(2);
    // The flow stored what it showed, not rendered text.
    expect((await row(job.id)).progress?.shown).toMatch(/^\d+/);
    sim.finish(job.klingTaskId!, "failed");
    advance(60_000);
    await pollJob(s, await claim(job.id));
  });

  it("gives up after repeated delivery refusals, keeping the charge, and never downloads twice in one step", async () => {
    const job = await runningJob();
    sim.finish(job.klingTaskId!);
    advance(10_000);
    await pollJob(s, await claim(job.id));
    expect((await row(job.id)).state).toBe("delivering");
    port.refuseDelivery = true;
    let attempts = 0;
    for (; attempts < 20; attempts++) {
      const current = await row(job.id);
      if (current.state !== "delivering") break;
      advance(10 * 60_000);
      await deliverJob(s, await claim(job.id));
    }
    expect(attempts).toBe(6);
    const done = await row(job.id);
    expect(done).toMatchObject({ state: "completed", errorCode: "DELIVERY_FAILED" });
    const movements = await database.db
      .select()
      .from(creditLedger)
      .where(and(eq(creditLedger.jobId, job.id)));
    expect(movements.map((m) => m.kind).sort()).toEqual(["capture", "hold"]);
  });

  it("delivers the file within the adapter's limit, or tells it the file was too large", async () => {
    const job = await runningJob();
    sim.finish(job.klingTaskId!);
    advance(10_000);
    await pollJob(s, await claim(job.id));
    port.limit = 100;
    await deliverJob(s, await claim(job.id));
    const [event] = port.of(job.id, "delivered") as Extract<Event, { kind: "delivered" }>[];
    expect(event?.video.file).toBeUndefined();
    expect(event?.video.tooLarge?.limit).toBe(100);
    expect((await row(job.id)).replyMessageId).toBe(`m${job.id}`);
  });

  it("claims only due, free jobs, never one it excludes or one another live lease holds", async () => {
    const a = await runningJob();
    const b = await runningJob();
    advance(10_000);
    const first = await claimDueJobs(database.db, {
      owner: s.owner,
      limit: 10,
      leaseMs: 60_000,
      now: clock,
      exclude: [a.id],
    });
    expect(first.map((j) => j.id)).toContain(b.id);
    expect(first.map((j) => j.id)).not.toContain(a.id);
    // b is leased for a minute: another owner cannot take it before the lease ends.
    const other = await claimDueJobs(database.db, {
      owner: "someone-else",
      limit: 10,
      leaseMs: 60_000,
      now: clock,
    });
    expect(other.map((j) => j.id)).not.toContain(b.id);
    expect(other.map((j) => j.id)).toContain(a.id);
    advance(61_000);
    const later = await claimDueJobs(database.db, {
      owner: "someone-else",
      limit: 10,
      leaseMs: 60_000,
      now: clock,
    });
    expect(later.map((j) => j.id)).toContain(b.id);
    // Only the states asked for.
    const none = await claimDueJobs(database.db, {
      owner: s.owner,
      limit: 10,
      leaseMs: 60_000,
      now: new Date(clock.getTime() + 3_600_000),
      states: ["delivering"],
    });
    expect(none.map((j) => j.id)).not.toContain(a.id);
    for (const job of [a, b]) sim.finish(job.klingTaskId!, "failed");
  });

  it("renews the lease of a job while its step runs", async () => {
    const job = await runningJob();
    advance(10_000);
    await claim(job.id);
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      await withLease(s, job.id, async () => {
        advance(45_000);
        vi.advanceTimersByTime(s.settings.leaseMs / 3);
        const expected = clock.getTime() + s.settings.leaseMs;
        for (let i = 0; i < 100; i++) {
          if ((await row(job.id)).leaseExpiresAt?.getTime() === expected) break;
        }
        expect((await row(job.id)).leaseExpiresAt?.getTime()).toBe(expected);
      });
    } finally {
      vi.useRealTimers();
    }
    sim.finish(job.klingTaskId!, "failed");
  });

  it("tells the operators when the API account is empty, and the member only that the job failed", async () => {
    const job = await acceptJob();
    await handOverJob(s, job, undefined);
    const balance = sim.balance();
    sim.setBalance(0);
    try {
      await submitJob(s, await claim(job.id));
    } finally {
      sim.setBalance(balance);
    }
    expect(alerts).toEqual([{ key: "kling-credits", text: expect.stringMatching(/out of credits/) }]);
    expect(port.of(job.id, "failed")).toMatchObject([{ failure: { code: "INSUFFICIENT_CREDITS" } }]);
    expect((await row(job.id)).state).toBe("failed");
  });
});
