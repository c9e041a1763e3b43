import { and, eq, inArray } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { creditLedger, jobs } from "../../src/db/schema.js";
import { acceptVideoRequest, handOverJob } from "../../src/jobs/accept.js";
import { deliverJob } from "../../src/jobs/deliver.js";
import { withLease } from "../../src/jobs/lease.js";
import { pollJob } from "../../src/jobs/poll.js";
import type {
  Failure,
  FinishedVideo,
  JobPort,
  Posted,
  ProgressFigures,
  VideoPosted,
} from "../../src/jobs/port.js";
import { claimDueJobs, findJobByNumber, type JobRow } from "../../src/jobs/repository.js";
import type { JobServices } from "../../src/jobs/services.js";
import { submitJob } from "../../src/jobs/submit.js";
import { KlingClient } from "../../src/kling/client.js";
import { expectedRunTimeMs } from "../../src/kling/pricing.js";
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
  | ({ kind: "progress"; jobId: number } & ProgressFigures)
  | {
      kind: "delivered";
      jobId: number;
      video: FinishedVideo;
      charged: number;
      balance: number;
    }
  | { kind: "looked"; jobId: number }
  | { kind: "pointed"; jobId: number; messageId: string }
  | { kind: "failed"; jobId: number; failure: Failure };

class RecordingPort implements JobPort {
  events: Event[] = [];
  limit = 10 * 1024 * 1024;
  /** Throw from `delivered`, as an adapter does when Discord refuses the message. */
  refuseDelivery = false;
  /** Post, then throw from `delivered`: the answer was lost. */
  loseAnswer = false;
  /** The video messages posted, by job id (what `findVideo` can find). */
  posted = new Map<number, VideoPosted>();
  attachmentLimit(): number {
    return this.limit;
  }
  async waiting(job: JobRow, info: { place: number; why: "slowed" | "turn" }): Promise<Posted> {
    this.events.push({ kind: "waiting", jobId: job.id, place: info.place });
    return {};
  }
  async progress(job: JobRow, figures: ProgressFigures): Promise<Posted> {
    this.events.push({ kind: "progress", jobId: job.id, ...figures });
    return {};
  }
  async delivered(
    job: JobRow,
    info: { video: FinishedVideo; charged: number; balance: number },
  ): Promise<VideoPosted> {
    if (this.refuseDelivery) throw new Error("refused");
    const { video, charged, balance } = info;
    this.events.push({ kind: "delivered", jobId: job.id, video, charged, balance });
    const posted = { messageId: `m${job.id}`, attached: Boolean(video.file) };
    this.posted.set(job.id, posted);
    if (this.loseAnswer) throw new Error("no answer");
    return posted;
  }
  async findVideo(job: JobRow): Promise<VideoPosted | undefined> {
    this.events.push({ kind: "looked", jobId: job.id });
    return this.posted.get(job.id);
  }
  async pointToVideo(job: JobRow, info: { messageId: string }): Promise<Posted> {
    this.events.push({ kind: "pointed", jobId: job.id, messageId: info.messageId });
    return {};
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

  /** The test member's request, in `guildId` (default: the test guild). */
  function accept(options: { locale?: string; guildId?: string; request?: VideoRequest } = {}) {
    return acceptVideoRequest(s, {
      interactionId: `flow-${driver}-${++interaction}`,
      guildId: options.guildId ?? GUILD,
      channelId: "910000000000000002",
      userId: "910000000000000003",
      locale: options.locale ?? "en",
      applicationId: "910000000000000004",
      interactionToken: "token",
      tokenExpiresAt: new Date(clock.getTime() + 15 * 60_000),
      request: options.request ?? REQUEST,
      delivery: { attachmentSizeLimit: 10 * 1024 * 1024 },
      place: { memberRoleIds: [] },
    });
  }

  /** A job accepted (not yet handed over) for the test member, in `locale`. */
  async function acceptJob(locale = "en", request = REQUEST): Promise<JobRow> {
    const accepted = await accept({ locale, request });
    if (accepted.kind !== "accepted") throw new Error(accepted.kind);
    return accepted.job;
  }

  /** A job accepted, handed over and submitted: running on the simulator. */
  async function runningJob(request = REQUEST): Promise<JobRow> {
    const job = await acceptJob("en", request);
    await handOverJob(s, job, undefined);
    const running = await submitJob(s, await claim(job.id));
    expect(running?.state).toBe("running");
    return running!;
  }

  /** A running job whose task finished: polled once more, it waits in `delivering`. */
  async function deliveringJob(): Promise<JobRow> {
    const job = await runningJob();
    sim.finish(job.klingTaskId!);
    advance(10_000);
    await pollJob(s, await claim(job.id));
    expect((await row(job.id)).state).toBe("delivering");
    return job;
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
    const job = await deliveringJob();
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
    const job = await deliveringJob();
    port.limit = 100;
    await deliverJob(s, await claim(job.id));
    const [event] = port.of(job.id, "delivered") as Extract<Event, { kind: "delivered" }>[];
    expect(event?.video.file).toBeUndefined();
    expect(event?.video.tooLarge?.limit).toBe(100);
    expect(await row(job.id)).toMatchObject({ videoMessageId: `m${job.id}`, videoAttached: false });
    expect(port.of(job.id, "pointed")).toEqual([{ kind: "pointed", jobId: job.id, messageId: `m${job.id}` }]);
  });

  it("numbers jobs per server from 1, and a refused request takes no number", async () => {
    const [a, b] = ["910000000000000101", "910000000000000102"];
    await ensureGuild(database.db, a, 1_000);
    await ensureGuild(database.db, b, 1_000);
    await updateSettings(database.db, a, () => ({ memberJobs: 2 }), 0);
    const numberOf = async (guildId: string, request = REQUEST) => {
      const result = await accept({ guildId, request });
      return result.kind === "accepted" ? result.job.number : result.kind;
    };
    const costly: VideoRequest = {
      ...REQUEST,
      generate: { ...REQUEST.generate, type: "pro-text-to-video", duration: 15 },
    };
    expect(await numberOf(a)).toBe(1);
    expect(await numberOf(a, costly)).toBe("insufficient"); // 810 credits asked, 800 left
    expect(await numberOf(b)).toBe(1);
    expect(await numberOf(a)).toBe(2);
    expect(await numberOf(a)).toBe("refused"); // two jobs in flight, the most this server allows
    expect(await numberOf(b)).toBe(2);
    const rows = await database.db
      .select({ guildId: jobs.guildId, number: jobs.number })
      .from(jobs)
      .where(inArray(jobs.guildId, [a, b]));
    expect(rows.map((r) => `${r.guildId === a ? "a" : "b"}${r.number}`).sort()).toEqual([
      "a1",
      "a2",
      "b1",
      "b2",
    ]);
    // Another server's number finds nothing here.
    expect(await findJobByNumber(database.db, "910000000000000103", 1)).toBeUndefined();
    expect((await findJobByNumber(database.db, b, 2))?.guildId).toBe(b);
  });

  it("records a server it has never seen at its first request, with its starting credits, and holds from them", async () => {
    const fresh = "910000000000000111";
    s = { ...s, settings: { ...s.settings, defaultGuildCredits: 500 } };
    const first = await accept({ guildId: fresh });
    expect(first.kind).toBe("accepted");
    if (first.kind !== "accepted") return;
    expect(first.job.number).toBe(1);
    // 500 to start with, less the job's 200.
    expect(first.balance).toBe(300);
    expect(await getBalance(database.db, fresh)).toBe(300);
    const ledger = await database.db
      .select({ kind: creditLedger.kind, amount: creditLedger.amount })
      .from(creditLedger)
      .where(eq(creditLedger.guildId, fresh))
      .orderBy(creditLedger.id);
    expect(ledger).toEqual([
      { kind: "grant", amount: 500 },
      { kind: "hold", amount: -200 },
    ]);
  });

  it("decides simultaneous requests of one server one after another: no more are held than the credits cover", async () => {
    const shared = "910000000000000112";
    // Room for exactly three jobs of 200.
    await ensureGuild(database.db, shared, 600);
    await updateSettings(database.db, shared, () => ({ memberJobs: 50, serverJobs: 50 }), 0);
    const results = await Promise.all(Array.from({ length: 8 }, () => accept({ guildId: shared })));
    const accepted = results.filter((r) => r.kind === "accepted");
    expect(accepted).toHaveLength(3);
    expect(results.filter((r) => r.kind === "insufficient")).toHaveLength(5);
    expect(accepted.map((r) => r.job.number).sort()).toEqual([1, 2, 3]);
    expect(await getBalance(database.db, shared)).toBe(0);
  });

  it("estimates the first job of a type from its length, and reads the median again until there is one", async () => {
    const request: VideoRequest = {
      ...REQUEST,
      generate: { ...REQUEST.generate, type: "pro-text-to-video", duration: 10 },
    };
    const first = await runningJob(request);
    const [shown] = port.of(first.id, "progress") as Extract<Event, { kind: "progress" }>[];
    // Right after the submit: nothing elapsed, 30 s + 10 × 20 s expected.
    expect(shown).toMatchObject({ elapsedMs: 0, estimateMs: expectedRunTimeMs("pro-text-to-video", 10) });
    expect(s.estimates.has("pro-text-to-video")).toBe(false);
    advance(20_400);
    sim.finish(first.klingTaskId!);
    await pollJob(s, await claim(first.id));
    await deliverJob(s, await claim(first.id));
    expect((await row(first.id)).state).toBe("completed");
    // Within the minute a figure is kept: the next job of the type takes the real run time (20 s) at once.
    const second = await runningJob(request);
    expect(port.of(second.id, "progress")).toMatchObject([{ elapsedMs: 0, estimateMs: 20_000 }]);
    advance(12_400);
    await pollJob(s, await claim(second.id));
    expect(port.of(second.id, "progress").at(-1)).toMatchObject({ elapsedMs: 10_000, estimateMs: 20_000 });
    sim.finish(second.klingTaskId!, "failed");
    advance(10_000);
    await pollJob(s, await claim(second.id));
  });

  it("posts the video once: a retry looks for the earlier post first, a recorded one is only pointed to", async () => {
    const job = await deliveringJob();
    const balance = await getBalance(database.db, GUILD);
    // The first attempt posts, but its answer is lost: the job only knows that a post started.
    port.loseAnswer = true;
    await deliverJob(s, await claim(job.id));
    expect(await row(job.id)).toMatchObject({ state: "delivering", videoMessageId: null });
    expect((await row(job.id)).videoPostStartedAt).not.toBeNull();
    expect(port.of(job.id, "looked")).toHaveLength(0);
    // The next attempt finds that post before fetching anything, and keeps it.
    port.loseAnswer = false;
    advance(10 * 60_000);
    const requests = sim.requests.length;
    await deliverJob(s, await claim(job.id));
    expect(port.of(job.id, "looked")).toHaveLength(1);
    expect(port.of(job.id, "delivered")).toHaveLength(1);
    expect(sim.requests.length).toBe(requests);
    const [delivered] = port.of(job.id, "delivered") as Extract<Event, { kind: "delivered" }>[];
    // What the message says the server has left is what it has once the charge is settled.
    expect(delivered?.balance).toBe(balance + job.estimatedCost - delivered!.charged);
    expect(await getBalance(database.db, GUILD)).toBe(delivered?.balance);
    expect(await row(job.id)).toMatchObject({
      state: "completed",
      videoMessageId: `m${job.id}`,
      videoAttached: true,
    });

    // A job whose video message was recorded before the process stopped: pointed to and completed, not posted.
    const other = await deliveringJob();
    await database.db.update(jobs).set({ videoMessageId: "posted-before" }).where(eq(jobs.id, other.id));
    await deliverJob(s, await claim(other.id));
    expect(port.of(other.id, "delivered")).toHaveLength(0);
    expect(port.of(other.id, "pointed")).toEqual([
      { kind: "pointed", jobId: other.id, messageId: "posted-before" },
    ]);
    expect((await row(other.id)).state).toBe("completed");
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

  it("tells the operators when failed tasks the API charged for reach 3 within an hour; refunds the server", async () => {
    /** A job whose task fails on the simulator, charged (`keepCharge`) or refunded as usual. */
    const failTask = async (keepCharge: boolean) => {
      const job = await runningJob();
      sim.finish(job.klingTaskId!, { status: "FAILED", errorMessage: "rendering refused", keepCharge });
      advance(10_000);
      await pollJob(s, await claim(job.id));
      return job;
    };
    const balance = await getBalance(database.db, GUILD);
    const first = await failTask(true);
    // std, 5 s, no sound: 200 credits, charged by the API and given back to the server all the same.
    expect(await row(first.id)).toMatchObject({
      state: "failed",
      errorCode: "TASK_FAILED",
      errorParams: { consumedCredits: 200, status: "FAILED" },
    });
    expect(await getBalance(database.db, GUILD)).toBe(balance);
    expect(port.of(first.id, "failed")).toMatchObject([{ failure: { params: { consumedCredits: 200 } } }]);
    // A failure the API refunded does not count.
    const refunded = await failTask(false);
    expect((await row(refunded.id)).errorParams).not.toHaveProperty("consumedCredits");
    await failTask(true);
    expect(alerts).toEqual([]);
    const third = await failTask(true);
    expect(alerts).toEqual([
      {
        key: "kling-charged-failures",
        text: expect.stringMatching(
          new RegExp(`^3 video tasks .*\\(600 credits in all; the latest: job #${third.id}`),
        ),
      },
    ]);
    // An hour later the earlier ones no longer count: one more is no new alert.
    advance(61 * 60_000);
    await failTask(true);
    expect(alerts).toHaveLength(1);
    expect(await getBalance(database.db, GUILD)).toBe(balance);
  });
});
