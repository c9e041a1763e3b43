import { and, eq, inArray, isNotNull, lte, min, or } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobs } from "../../src/db/schema.js";
import { acceptVideoRequest, handOverJob } from "../../src/jobs/accept.js";
import { Poller } from "../../src/jobs/poller.js";
import type { JobPort } from "../../src/jobs/port.js";
import type { JobRow } from "../../src/jobs/repository.js";
import type { JobServices } from "../../src/jobs/services.js";
import { ACTIVE_STATES } from "../../src/jobs/states.js";
import { KlingClient } from "../../src/kling/client.js";
import { type KlingSimulator, startKlingSimulator } from "../../src/kling-sim/server.js";
import { checkInvariants, ensureGuild } from "../../src/ledger/index.js";
import { updateSettings } from "../../src/moderation/store.js";
import type { VideoRequest } from "../../src/video/validate.js";
import { openTestDatabase, type TestDatabase, testDrivers } from "../helpers/db.js";
import { testJobServices } from "../helpers/job-services.js";

/**
 * Status checks planned from history, through the real poller, the simulator over HTTP and a real database,
 * on a clock the test moves: each step jumps to the next time a job is due and waits until the poller has
 * dealt with everything due by then. The simulator runs on the same clock; each task's run time is chosen
 * from its prompt. Nothing here measures real time.
 */

const GUILD = "930000000000000001";
const KEY = "pacing-test-key";
const START = Date.parse("2026-06-01T12:00:00Z");

function request(duration: number, runMs: number): VideoRequest {
  const prompt = `a kite, run ${runMs} ms`;
  return {
    generate: { type: "std-text-to-video", prompt, duration, aspectRatio: "16:9", sound: false },
    display: { subcommand: "text", model: "std", prompt, duration, aspectRatio: "16:9", sound: false },
  };
}

/** What the simulator saw of one job's task: when it ended, and when the bot checked it. */
interface Observed {
  checksBefore: number;
  foundAfterMs: number;
  firstCheckAfterMs: number;
  longestGapMs: number;
}

describe.each(testDrivers())("status checks planned from history, through the poller, on %s", (driver) => {
  let database: TestDatabase;
  let sim: KlingSimulator;
  let kling: KlingClient;
  let s: JobServices;
  let poller: Poller;
  let clock = START;
  let interaction = 0;

  beforeAll(async () => {
    database = await openTestDatabase(driver);
    sim = await startKlingSimulator({
      apiKey: KEY,
      now: () => clock,
      outcome: (body) => {
        const runMs = Number(/run (\d+) ms/.exec(String(body.prompt))?.[1]);
        return { status: "SUCCESS", durationMs: runMs };
      },
    });
    kling = new KlingClient({ baseUrl: sim.url, apiKey: KEY, ratePerSecond: 1000, backoffBaseMs: 1 });
    await ensureGuild(database.db, GUILD, 10_000_000);
    await updateSettings(database.db, GUILD, () => ({ memberJobs: 100, serverJobs: 100 }), 0);
    const port: JobPort = {
      attachmentLimit: () => 10 * 1024 * 1024,
      waiting: async () => ({}),
      progress: async () => ({}),
      delivered: async () => ({ messageId: "1", attached: true }),
      findVideo: async () => undefined,
      pointToVideo: async () => ({}),
      failed: async () => ({}),
    };
    s = testJobServices({
      db: database.db,
      kling,
      port,
      videoOrigin: sim.url,
      now: () => new Date(clock),
      owner: "pacing-test",
      announce: async () => poller.poke(),
    });
    poller = new Poller(s, {
      concurrency: 8,
      deliveryConcurrency: 4,
      maxInFlight: 1000,
      idleMs: 2,
      deadOwners: false,
    });
    poller.start();
  });
  afterAll(async () => {
    await poller?.stop();
    await s?.download.close();
    await kling?.close();
    await sim?.close();
    await database?.close();
  });

  async function submit(duration: number, runMs: number): Promise<JobRow> {
    const accepted = await acceptVideoRequest(s, {
      interactionId: `pacing-${driver}-${++interaction}`,
      guildId: GUILD,
      channelId: "930000000000000002",
      userId: "930000000000000003",
      locale: "en",
      applicationId: "930000000000000004",
      interactionToken: "token",
      tokenExpiresAt: new Date(clock + 15 * 60_000),
      request: request(duration, runMs),
      delivery: { attachmentSizeLimit: 10 * 1024 * 1024 },
      place: { memberRoleIds: [] },
    });
    if (accepted.kind !== "accepted") throw new Error(accepted.kind);
    await handOverJob(s, accepted.job, undefined);
    return accepted.job;
  }

  /** Wait (in real time, briefly) until the poller has dealt with every job due by the test's clock. */
  async function settle(): Promise<void> {
    for (let i = 0; ; i++) {
      const [row] = await database.db
        .select({ id: jobs.id })
        .from(jobs)
        .where(
          and(
            inArray(jobs.state, [...ACTIVE_STATES]),
            or(lte(jobs.nextPollAt, new Date(clock)), isNotNull(jobs.leaseOwner)),
          ),
        )
        .limit(1);
      if (!row) return;
      if (i > 2_000)
        throw new Error(`job ${row.id} is still due or leased at ${new Date(clock).toISOString()}`);
      poller.poke();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Move the clock from one due time to the next until no job is left in flight. */
  async function runAll(): Promise<void> {
    for (;;) {
      await settle();
      const [next] = await database.db
        .select({ at: min(jobs.nextPollAt) })
        .from(jobs)
        .where(inArray(jobs.state, [...ACTIVE_STATES]));
      if (!next?.at) return;
      clock = Math.max(clock, new Date(next.at).getTime());
      poller.poke();
    }
  }

  async function observe(jobIds: number[]): Promise<Observed[]> {
    const rows = await database.db.select().from(jobs).where(inArray(jobs.id, jobIds));
    return rows.map((row) => {
      expect(row.state, `job ${row.id}`).toBe("completed");
      const task = sim.tasks.get(row.klingTaskId!)!;
      const checks = sim
        .requestsTo("status")
        .filter((r) => r.query.task_id === row.klingTaskId)
        .map((r) => r.at);
      const found = checks.find((at) => at >= task.doneAt)!;
      return {
        checksBefore: checks.filter((at) => at < task.doneAt).length,
        foundAfterMs: found - task.doneAt,
        firstCheckAfterMs: checks[0]! - task.createdAt,
        longestGapMs: Math.max(...checks.map((at, i) => at - (i === 0 ? task.createdAt : checks[i - 1]!))),
      };
    });
  }

  const total = (observed: Observed[], field: "checksBefore" | "foundAfterMs") =>
    observed.reduce((sum, o) => sum + o[field], 0);

  it("checks a job of a kind with history fewer times before its end and finds it sooner than today's rule", async () => {
    // History: six 5-second clips of this type, run (and found) under today's rule, as a new kind is.
    const history = [170_000, 174_000, 178_000, 182_000, 186_000, 190_000];
    for (const runMs of history) await submit(5, runMs);
    await runAll();
    expect((await database.db.select().from(jobs).where(eq(jobs.state, "completed"))).length).toBe(6);

    // Then, at once: six more of that kind, and six of the same run times whose kinds have no history
    // (other clip lengths), polled by today's rule.
    clock += 60_000;
    const runs = [172_000, 176_000, 180_000, 184_000, 188_000, 192_000];
    const planned: number[] = [];
    const fallback: number[] = [];
    for (const [i, runMs] of runs.entries()) {
      planned.push((await submit(5, runMs)).id);
      fallback.push((await submit([3, 4, 6, 7, 8, 9][i]!, runMs)).id);
    }
    await runAll();
    const withHistory = await observe(planned);
    const withoutHistory = await observe(fallback);

    // Today's rule checks five seconds after submit; the plan waits while the task surely runs.
    for (const o of withoutHistory) expect(o.firstCheckAfterMs).toBe(5_000);
    for (const o of withHistory) expect(o.firstCheckAfterMs).toBeGreaterThanOrEqual(30_000);
    // In all, fewer checks before the tasks ended, and the videos found sooner after. (Compared in sums: today's
    // rule has a ±20 % jitter, so one job of each kind alone could land either way near the end.)
    expect(total(withHistory, "checksBefore")).toBeLessThan(total(withoutHistory, "checksBefore"));
    expect(total(withHistory, "foundAfterMs")).toBeLessThan(total(withoutHistory, "foundAfterMs"));
    // No job waited more than a minute between two checks.
    for (const o of [...withHistory, ...withoutHistory]) expect(o.longestGapMs).toBeLessThanOrEqual(60_000);
    expect((await checkInvariants(database.db)).problems).toEqual([]);
    // About 200 steps of the clock, each a few queries and HTTP calls: give a loaded machine room.
  }, 120_000);
});
