import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jobs } from "../../src/db/schema.js";
import { claimQueuedJobs, placesTaken, queuePlaces } from "../../src/jobs/queue.js";
import type { JobState } from "../../src/jobs/states.js";
import { ensureGuild } from "../../src/ledger/index.js";
import { openTestDatabase, type TestDatabase, testDrivers } from "../helpers/db.js";

/** The queue's order and its cap, on rows written directly (no bot): round-robin across servers. */
describe.each(testDrivers())("the queue's order on %s", (driver) => {
  let database: TestDatabase;
  let next = 0;
  const t0 = Date.parse("2026-12-01T10:00:00Z");
  beforeEach(async () => {
    database = await openTestDatabase(driver);
    for (const g of ["A", "B", "C"]) await ensureGuild(database.db, guild(g), 0);
  });
  afterEach(async () => {
    await database.close();
  });

  const guild = (name: string) => `90000000000000${name.charCodeAt(0)}`;

  /** A job of server `g` made `at` seconds after t0, in `state`. */
  async function job(g: string, at: number, state: JobState = "pending"): Promise<number> {
    next += 1;
    const [row] = await database.db
      .insert(jobs)
      .values({
        interactionId: String(800000000000000000n + BigInt(next)),
        number: next,
        guildId: guild(g),
        channelId: "1",
        userId: "2",
        request: {},
        taskType: "std-text-to-video",
        estimatedCost: 0,
        state,
        applicationId: "3",
        tokenExpiresAt: new Date(t0 + 3_600_000),
        nextPollAt: new Date(t0 + at * 1000),
        createdAt: new Date(t0 + at * 1000),
      })
      .returning({ id: jobs.id });
    return row!.id;
  }

  const now = new Date(t0 + 3_600_000);

  it("orders waiting jobs first come, first served within a server and in turn across servers", async () => {
    const a = [await job("A", 1), await job("A", 2), await job("A", 3)];
    const b = [await job("B", 4), await job("B", 5)];
    const c = [await job("C", 6)];
    const places = await queuePlaces(database.db, now);
    const order = [...places.entries()].sort((x, y) => x[1] - y[1]).map(([id]) => id);
    expect(order).toEqual([a[0], b[0], c[0], a[1], b[1], a[2]]);
  });

  it("puts a server with fewer tasks running first among equals", async () => {
    await job("A", 0, "running");
    await job("A", 0, "running");
    await job("B", 0, "running");
    const a = await job("A", 1);
    const b = await job("B", 2);
    const c = await job("C", 3);
    const places = await queuePlaces(database.db, now);
    expect([c, b, a].map((id) => places.get(id))).toEqual([1, 2, 3]);
  });

  it("claims only as many as the account has free places, leased so that they count", async () => {
    await job("A", 0, "running");
    const waiting = [await job("A", 1), await job("B", 2), await job("C", 3)];
    const first = await claimQueuedJobs(database.db, {
      owner: "p1",
      limit: 10,
      cap: 3,
      leaseMs: 60_000,
      now,
    });
    expect(first.jobs.map((j) => j.id)).toEqual([waiting[1], waiting[2]]);
    expect(await placesTaken(database.db, now)).toBe(3);
    const second = await claimQueuedJobs(database.db, {
      owner: "p2",
      limit: 10,
      cap: 3,
      leaseMs: 60_000,
      now,
    });
    expect(second).toEqual({ jobs: [], full: true });
    // A lease that ran out frees its place.
    const later = new Date(now.getTime() + 61_000);
    const third = await claimQueuedJobs(database.db, {
      owner: "p2",
      limit: 1,
      cap: 3,
      leaseMs: 60_000,
      now: later,
    });
    expect(third.jobs).toHaveLength(1);
    const [row] = await database.db.select().from(jobs).where(eq(jobs.id, third.jobs[0]!.id));
    expect(row!.leaseOwner).toBe("p2");
  });
});
