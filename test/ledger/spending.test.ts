import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { creditLedger, jobs } from "../../src/db/schema.js";
import {
  captureCredits,
  ensureGuild,
  getSpending,
  grantCredits,
  releaseCredits,
  reserveCredits,
} from "../../src/ledger/index.js";
import { insertTestJob, openTestDatabase, type TestDatabase, testDrivers } from "../helpers/db.js";
import { expectInvariants, newGuild } from "./helpers.js";

const ANN = "200000000000000001";
const BOB = "200000000000000002";

describe.each(testDrivers())("spending per member and task type on %s", (driver) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(driver);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A job held for `held` and settled: captured at `charged` (delivered), or released (failed). */
  async function job(
    guildId: string,
    userId: string,
    taskType: string,
    held: number,
    end: { charged: number; at?: Date } | "released" | "in flight",
  ) {
    const row = await insertTestJob(t.db, { guildId, userId, estimatedCost: held });
    await t.db.update(jobs).set({ taskType }).where(eq(jobs.id, row.id));
    await reserveCredits(t.db, { guildId, userId, jobId: row.id, amount: held });
    if (end === "released") await releaseCredits(t.db, { guildId, jobId: row.id, reason: "TASK_FAILED" });
    else if (end !== "in flight") {
      await captureCredits(t.db, { guildId, jobId: row.id, charged: end.charged });
      if (end.at) {
        await t.db.update(creditLedger).set({ createdAt: end.at }).where(eq(creditLedger.jobId, row.id));
      }
    }
    return row;
  }

  it("counts what captured jobs cost in the period, per member and type; not failures, not jobs in flight", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 10_000);
    const may = new Date("2026-05-10T12:00:00Z");
    await job(g, ANN, "pro-text-to-video", 400, { charged: 400, at: may });
    // Charged less than held: the unused part went back.
    await job(g, ANN, "pro-text-to-video", 400, { charged: 300, at: may });
    // Charged more than held: the excess the balance covered counts too.
    await job(g, ANN, "std-text-to-video", 200, { charged: 250, at: may });
    await job(g, BOB, "o3-std-video-edit", 360, { charged: 360, at: may });
    await job(g, BOB, "pro-text-to-video", 400, "released");
    await job(g, BOB, "pro-text-to-video", 400, "in flight");
    // Settled in April and in June: outside May.
    await job(g, BOB, "std-text-to-video", 200, { charged: 200, at: new Date("2026-04-30T23:59:59Z") });
    await job(g, ANN, "std-text-to-video", 200, { charged: 200, at: new Date("2026-06-01T00:00:00Z") });
    // Another server's spending never shows.
    const other = newGuild();
    await ensureGuild(t.db, other, 1_000);
    await job(other, ANN, "pro-text-to-video", 400, { charged: 400, at: may });

    const spent = await getSpending(t.db, {
      guildId: g,
      since: new Date("2026-05-01T00:00:00Z"),
      until: new Date("2026-06-01T00:00:00Z"),
    });
    expect(spent).toEqual([
      { userId: ANN, taskType: "pro-text-to-video", jobs: 2, credits: 700 },
      { userId: BOB, taskType: "o3-std-video-edit", jobs: 1, credits: 360 },
      { userId: ANN, taskType: "std-text-to-video", jobs: 1, credits: 250 },
    ]);
    expect(
      await getSpending(t.db, {
        guildId: g,
        since: new Date("2026-01-01T00:00:00Z"),
        until: new Date("2026-02-01T00:00:00Z"),
      }),
    ).toEqual([]);
    await expectInvariants(t.db);
  });

  it("counts an excess the balance could not cover only as far as it was taken", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 0);
    await grantCredits(t.db, { guildId: g, amount: 410, actorId: "cli", reason: "just enough" });
    await job(g, ANN, "pro-text-to-video", 400, { charged: 500 });
    const now = new Date();
    const spent = await getSpending(t.db, {
      guildId: g,
      since: new Date(now.getTime() - 60_000),
      until: new Date(now.getTime() + 60_000),
    });
    // 400 held + 10 of the 100 extra (all the balance had).
    expect(spent).toEqual([{ userId: ANN, taskType: "pro-text-to-video", jobs: 1, credits: 410 }]);
    await expectInvariants(t.db, g);
  });
});
