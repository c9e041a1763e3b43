import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guilds, jobs } from "../../src/db/schema.js";
import {
  captureCredits,
  ensureGuild,
  grantCredits,
  LedgerError,
  ledgerPage,
  listGuilds,
  MAX_LEDGER_PAGE,
  reserveCredits,
  setAllowance,
} from "../../src/ledger/index.js";
import { insertTestJob, openTestDatabase, type TestDatabase, testDrivers } from "../helpers/db.js";
import { expectInvariants, ledgerOf, newGuild } from "./helpers.js";

describe.each(testDrivers())("ledger history on %s", (driver) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(driver);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("pages a guild's ledger newest first by id, and a page does not shift when rows are added", async () => {
    const g = newGuild();
    for (let i = 1; i <= 25; i++) {
      await grantCredits(t.db, { guildId: g, amount: i, actorId: "cli", reason: `grant ${i}` });
    }
    const first = await ledgerPage(t.db, { guildId: g, limit: 10 });
    expect(first.lines.map((l) => l.reason)).toEqual(Array.from({ length: 10 }, (_, i) => `grant ${25 - i}`));
    expect(first.lines[0]).toMatchObject({
      kind: "grant",
      credits: 25,
      actorId: "cli",
      userId: null,
      jobId: null,
    });
    expect(first.lines[0]!.at).toBeInstanceOf(Date);
    expect(first.next).toBe(first.lines[9]!.id);

    // A row written between two pages lands on top, not on the next page.
    await grantCredits(t.db, { guildId: g, amount: 100, actorId: "cli", reason: "late" });
    const second = await ledgerPage(t.db, { guildId: g, before: first.next, limit: 10 });
    expect(second.lines.map((l) => l.credits)).toEqual([15, 14, 13, 12, 11, 10, 9, 8, 7, 6]);
    const last = await ledgerPage(t.db, { guildId: g, before: second.next, limit: 10 });
    expect(last.lines.map((l) => l.credits)).toEqual([5, 4, 3, 2, 1]);
    expect(last.next).toBeUndefined();
    // A page that ends exactly at the oldest row has no next page either.
    expect(
      (await ledgerPage(t.db, { guildId: g, before: last.lines[0]!.id, limit: 4 })).next,
    ).toBeUndefined();
    expect((await ledgerPage(t.db, { guildId: g, limit: 1 })).lines[0]?.reason).toBe("late");
    await expectInvariants(t.db, g);
  });

  it("pages back to newer rows with `after`, and says on each page whether there are newer and older ones", async () => {
    const g = newGuild();
    for (let i = 1; i <= 12; i++) {
      await grantCredits(t.db, { guildId: g, amount: i, actorId: "cli", reason: `grant ${i}` });
    }
    const credits = (p: { lines: { credits: number }[] }) => p.lines.map((l) => l.credits);
    const first = await ledgerPage(t.db, { guildId: g, limit: 5 });
    expect([credits(first), first.previous]).toEqual([[12, 11, 10, 9, 8], undefined]);
    const second = await ledgerPage(t.db, { guildId: g, before: first.next, limit: 5 });
    expect(credits(second)).toEqual([7, 6, 5, 4, 3]);
    expect(second.previous).toBe(second.lines[0]!.id);
    const third = await ledgerPage(t.db, { guildId: g, before: second.next, limit: 5 });
    expect([credits(third), third.next]).toEqual([[2, 1], undefined]);
    // Back from the last page: the same rows as on the way forward, newest first.
    const backToSecond = await ledgerPage(t.db, { guildId: g, after: third.previous, limit: 5 });
    expect(credits(backToSecond)).toEqual([7, 6, 5, 4, 3]);
    expect(backToSecond.next).toBe(second.next);
    expect(backToSecond.previous).toBe(second.previous);
    const backToFirst = await ledgerPage(t.db, { guildId: g, after: backToSecond.previous, limit: 5 });
    expect([credits(backToFirst), backToFirst.previous, backToFirst.next]).toEqual([
      [12, 11, 10, 9, 8],
      undefined,
      first.next,
    ]);
    // A row written meanwhile makes the first page's way back show it.
    await grantCredits(t.db, { guildId: g, amount: 100, actorId: "cli", reason: "late" });
    const again = await ledgerPage(t.db, { guildId: g, after: backToSecond.previous, limit: 5 });
    expect([credits(again), again.previous]).toEqual([[12, 11, 10, 9, 8], again.lines[0]!.id]);
  });

  it("shows a job's movements with the member, the job and the flag", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 100);
    const job = await insertTestJob(t.db, { guildId: g, userId: "200000000000000042" });
    await reserveCredits(t.db, { guildId: g, userId: job.userId, jobId: job.id, amount: 40 });
    await captureCredits(t.db, { guildId: g, jobId: job.id, charged: 50 });
    const { lines } = await ledgerPage(t.db, { guildId: g, limit: 10 });
    expect(lines.map((l) => [l.kind, l.credits, l.userId, l.jobId, l.actorId, l.flagged])).toEqual([
      ["adjustment", -10, job.userId, job.id, "system", true],
      ["capture", 0, job.userId, job.id, null, false],
      ["hold", -40, job.userId, job.id, null, false],
      ["grant", 100, null, null, "system", false],
    ]);
    await expectInvariants(t.db, g);
  });

  it("never shows one guild another guild's rows", async () => {
    const a = newGuild();
    const b = newGuild();
    await grantCredits(t.db, { guildId: a, amount: 10, actorId: "cli", reason: "to a" });
    const bGrant = await grantCredits(t.db, { guildId: b, amount: 20, actorId: "cli", reason: "to b" });
    const jobB = await insertTestJob(t.db, { guildId: b });
    await reserveCredits(t.db, { guildId: b, userId: jobB.userId, jobId: jobB.id, amount: 5 });
    await grantCredits(t.db, { guildId: a, amount: 30, actorId: "cli", reason: "to a again" });

    const pageA = await ledgerPage(t.db, { guildId: a, limit: MAX_LEDGER_PAGE });
    expect(pageA.lines.map((l) => l.reason)).toEqual(["to a again", "to a"]);
    // Paging from an id of B's still shows only A's rows.
    const fromB = await ledgerPage(t.db, { guildId: a, before: bGrant.entryId + 1, limit: 10 });
    expect(fromB.lines.map((l) => l.reason)).toEqual(["to a"]);
    const backFromB = await ledgerPage(t.db, { guildId: a, after: bGrant.entryId - 1, limit: 10 });
    expect(backFromB.lines.map((l) => l.reason)).toEqual(["to a again"]);
    expect(backFromB.previous).toBeUndefined();
    expect((await ledgerPage(t.db, { guildId: newGuild(), limit: 10 })).lines).toEqual([]);

    expect(
      (await listGuilds(t.db, { guildId: a })).map((s) => [s.id, s.balance, s.held, s.jobsInFlight]),
    ).toEqual([[a, 40, 0, 0]]);
    expect(
      (await listGuilds(t.db, { guildId: b })).map((s) => [s.id, s.balance, s.held, s.jobsInFlight]),
    ).toEqual([[b, 15, 5, 1]]);
    expect(await ledgerOf(t.db, a)).toHaveLength(2);
    await expectInvariants(t.db);
  });

  it("lists guilds oldest first, with balance, allowance, credits held and jobs in flight", async () => {
    const old = newGuild();
    const young = newGuild();
    await ensureGuild(t.db, young, 500);
    await ensureGuild(t.db, old, 0);
    await t.db
      .update(guilds)
      .set({ firstSeenAt: new Date("2020-01-01T00:00:00Z") })
      .where(eq(guilds.id, old));
    await setAllowance(t.db, {
      guildId: young,
      credits: 800,
      actorId: "cli",
      now: new Date("2026-05-02T00:00Z"),
    });
    const running = await insertTestJob(t.db, { guildId: young });
    const finished = await insertTestJob(t.db, { guildId: young });
    for (const job of [running, finished]) {
      await reserveCredits(t.db, { guildId: young, userId: job.userId, jobId: job.id, amount: 100 });
    }
    await captureCredits(t.db, { guildId: young, jobId: finished.id, charged: 100 });
    await t.db.update(jobs).set({ state: "completed" }).where(eq(jobs.id, finished.id));
    await t.db.update(jobs).set({ state: "running" }).where(eq(jobs.id, running.id));

    const listed = (await listGuilds(t.db)).filter((s) => s.id === old || s.id === young);
    expect(listed).toEqual([
      {
        id: old,
        balance: 0,
        held: 0,
        allowance: null,
        allowanceMonth: null,
        firstSeenAt: new Date("2020-01-01T00:00:00Z"),
        jobsInFlight: 0,
      },
      {
        id: young,
        balance: 300,
        held: 100,
        allowance: 800,
        allowanceMonth: "2026-05",
        firstSeenAt: expect.any(Date),
        jobsInFlight: 1,
      },
    ]);
    await expectInvariants(t.db);
  });

  it("refuses a page size or a start that is not a whole number in range", async () => {
    for (const query of [
      { limit: 0 },
      { limit: MAX_LEDGER_PAGE + 1 },
      { limit: 1.5 },
      { limit: 5, before: 0 },
      { limit: 5, after: -1 },
      { limit: 5, before: 10, after: 2 },
    ]) {
      const err = await ledgerPage(t.db, { guildId: "1", ...query }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LedgerError);
    }
  });
});
