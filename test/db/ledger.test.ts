import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/database.js";
import { creditLedger, guilds, jobs } from "../../src/db/schema.js";
import {
  captureCredits,
  checkInvariants,
  ensureGuild,
  getBalance,
  getUsage,
  grantCredits,
  LedgerError,
  releaseCredits,
  reserveCredits,
} from "../../src/ledger/index.js";
import { insertTestJob, openTestDatabase, type TestDatabase, testDrivers } from "../helpers/db.js";

let guildSeq = 0;
/** Each test works in its own guild, so the tests of one database do not see each other. */
const newGuild = () => `9${String(Date.now()).slice(-8)}${String(++guildSeq).padStart(9, "0")}`;

async function expectLedgerError(promise: Promise<unknown>, code: LedgerError["code"]): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LedgerError);
  expect((err as LedgerError).code).toBe(code);
}

/** Wait (bounded) until `n` sessions of this database are blocked on a lock. */
async function waitForLockWaiters(t: TestDatabase, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [row] = await queryRows<{ waiting: unknown }>(
      t.db,
      sql`select count(*) as waiting from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`,
    );
    if (Number(row?.waiting) >= n) return;
    if (Date.now() > deadline)
      throw new Error(`only ${String(row?.waiting)} of ${n} sessions reached the lock`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(testDrivers())("ledger on %s", (driver) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(driver, { poolSize: 20 });
  });
  afterAll(async () => {
    await t?.close();
  });

  const ledgerOf = (guildId: string) =>
    t.db.select().from(creditLedger).where(eq(creditLedger.guildId, guildId)).orderBy(creditLedger.id);

  it("creates a guild once, with its starting credits as a grant, even when asked concurrently", async () => {
    const g = newGuild();
    const rows = await Promise.all(Array.from({ length: 10 }, () => ensureGuild(t.db, g, 500)));
    expect(new Set(rows.map((r) => r.balance))).toEqual(new Set([500]));
    const ledger = await ledgerOf(g);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({
      kind: "grant",
      amount: 500,
      actorId: "system",
      reason: "starting credits",
    });
    expect(rows[0]!.settings).toEqual({});
    // A later call with another figure changes nothing.
    expect((await ensureGuild(t.db, g, 9_999)).balance).toBe(500);
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });

    const empty = newGuild();
    expect((await ensureGuild(t.db, empty, 0)).balance).toBe(0);
    expect(await ledgerOf(empty)).toHaveLength(0);
  });

  it("lets exactly 100 of 1,000 concurrent reservations of 10 through a balance of 1,000", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 1_000);
    const jobList = [];
    for (let i = 0; i < 1_000; i += 100) {
      jobList.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, (_, k) =>
            insertTestJob(t.db, { guildId: g, userId: `u${(i + k) % 7}` }),
          ),
        )),
      );
    }
    const results = await Promise.all(
      jobList.map((job) =>
        reserveCredits(t.db, { guildId: g, userId: job.userId, jobId: job.id, amount: 10 }),
      ),
    );
    const ok = results.filter((r) => r.ok);
    expect(ok).toHaveLength(100);
    for (const r of results) if (!r.ok) expect(r.shortfall).toBeGreaterThanOrEqual(1);
    expect(await getBalance(t.db, g)).toBe(0);
    const holds = (await ledgerOf(g)).filter((r) => r.kind === "hold");
    expect(holds).toHaveLength(100);
    expect(holds.every((h) => h.amount === -10)).toBe(true);
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
  });

  it("takes a job's hold once, however often and however concurrently it is asked", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 100);
    const job = await insertTestJob(t.db, { guildId: g });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        reserveCredits(t.db, { guildId: g, userId: "u", jobId: job.id, amount: 30 }),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.filter((r) => r.ok && !r.alreadyHeld)).toHaveLength(1);
    expect(await getBalance(t.db, g)).toBe(70);
    expect(await reserveCredits(t.db, { guildId: g, userId: "u", jobId: job.id, amount: 30 })).toEqual({
      ok: true,
      balance: 70,
      alreadyHeld: true,
    });
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
  });

  it.runIf(driver === "postgres")(
    "undoes the debit of a second hold that raced the first, and answers it as already held",
    async () => {
      const g = newGuild();
      await ensureGuild(t.db, g, 100);
      const job = await insertTestJob(t.db, { guildId: g });
      const racers: Promise<Awaited<ReturnType<typeof reserveCredits>>>[] = [];
      await t.db.transaction(async (tx) => {
        // The first hold is written but not committed: the racers' snapshots cannot see it, so each of them
        // debits the guild (after waiting for its row lock) and then collides on the (job_id, kind) index.
        expect(
          await reserveCredits(tx, { guildId: g, userId: "u", jobId: job.id, amount: 30 }),
        ).toMatchObject({
          ok: true,
          balance: 70,
        });
        for (let i = 0; i < 4; i++) {
          racers.push(reserveCredits(t.db, { guildId: g, userId: "u", jobId: job.id, amount: 30 }));
        }
        await waitForLockWaiters(t, 4);
      });
      const results = await Promise.all(racers);
      expect(results).toEqual(
        Array.from({ length: 4 }, () => ({ ok: true, balance: 70, alreadyHeld: true })),
      );
      expect(await getBalance(t.db, g)).toBe(70);
      expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
    },
  );

  it("refuses a reservation larger than the balance and names the shortfall", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 25);
    const job = await insertTestJob(t.db, { guildId: g });
    expect(await reserveCredits(t.db, { guildId: g, userId: "u", jobId: job.id, amount: 40 })).toEqual({
      ok: false,
      balance: 25,
      shortfall: 15,
    });
    expect(await ledgerOf(g)).toHaveLength(1);
    await expectLedgerError(
      reserveCredits(t.db, { guildId: g, userId: "u", jobId: job.id, amount: 0 }),
      "invalid_amount",
    );
    await expectLedgerError(
      reserveCredits(t.db, { guildId: g, userId: "u", jobId: job.id, amount: 1.5 }),
      "invalid_amount",
    );
  });

  it("captures once: returns the unused part, records the charge, and a second capture changes nothing", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 100);
    const job = await insertTestJob(t.db, { guildId: g, userId: "alice" });
    await reserveCredits(t.db, { guildId: g, userId: "alice", jobId: job.id, amount: 40 });
    const first = await captureCredits(t.db, { guildId: g, jobId: job.id, charged: 35 });
    expect(first).toMatchObject({
      alreadyCaptured: false,
      held: 40,
      charged: 35,
      refunded: 5,
      flagged: false,
      balance: 65,
    });
    const second = await captureCredits(t.db, { guildId: g, jobId: job.id, charged: 35 });
    expect(second).toMatchObject({ alreadyCaptured: true, held: 40, charged: 35, refunded: 5, balance: 65 });
    const [row] = await t.db.select().from(jobs).where(eq(jobs.id, job.id));
    expect(row!.chargedCost).toBe(35);
    expect((await ledgerOf(g)).map((r) => [r.kind, r.amount])).toEqual([
      ["grant", 100],
      ["hold", -40],
      ["capture", 5],
    ]);
    expect(await getBalance(t.db, g)).toBe(65);
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
  });

  it("captures concurrently only once", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 100);
    const job = await insertTestJob(t.db, { guildId: g });
    await reserveCredits(t.db, { guildId: g, userId: "u", jobId: job.id, amount: 50 });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => captureCredits(t.db, { guildId: g, jobId: job.id, charged: 20 })),
    );
    expect(results.filter((r) => !r.alreadyCaptured)).toHaveLength(1);
    expect(await getBalance(t.db, g)).toBe(80);
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
  });

  it("releases once: the full hold comes back, a second release changes nothing", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 100);
    const job = await insertTestJob(t.db, { guildId: g });
    await reserveCredits(t.db, { guildId: g, userId: "u", jobId: job.id, amount: 60 });
    expect(await getBalance(t.db, g)).toBe(40);
    expect(await releaseCredits(t.db, { guildId: g, jobId: job.id, reason: "TASK_FAILED" })).toEqual({
      status: "released",
      released: 60,
      balance: 100,
    });
    expect(await releaseCredits(t.db, { guildId: g, jobId: job.id, reason: "TASK_FAILED" })).toEqual({
      status: "already_released",
      released: 60,
      balance: 100,
    });
    const release = (await ledgerOf(g)).filter((r) => r.kind === "release");
    expect(release).toHaveLength(1);
    expect(release[0]!.reason).toBe("TASK_FAILED");
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
  });

  it("releases nothing for a job that never held credits", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 10);
    const job = await insertTestJob(t.db, { guildId: g });
    expect(await releaseCredits(t.db, { guildId: g, jobId: job.id, reason: "x" })).toEqual({
      status: "nothing_held",
      released: 0,
      balance: 10,
    });
    await expectLedgerError(captureCredits(t.db, { guildId: g, jobId: job.id, charged: 5 }), "no_hold");
    expect(await ledgerOf(g)).toHaveLength(1);
  });

  it("refuses a release after a capture and a capture after a release", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 100);
    const captured = await insertTestJob(t.db, { guildId: g });
    const released = await insertTestJob(t.db, { guildId: g });
    await reserveCredits(t.db, { guildId: g, userId: "u", jobId: captured.id, amount: 10 });
    await reserveCredits(t.db, { guildId: g, userId: "u", jobId: released.id, amount: 10 });
    await captureCredits(t.db, { guildId: g, jobId: captured.id, charged: 10 });
    await releaseCredits(t.db, { guildId: g, jobId: released.id, reason: "cancelled" });
    await expectLedgerError(
      releaseCredits(t.db, { guildId: g, jobId: captured.id, reason: "late" }),
      "already_captured",
    );
    await expectLedgerError(
      captureCredits(t.db, { guildId: g, jobId: released.id, charged: 10 }),
      "already_released",
    );
    expect(await getBalance(t.db, g)).toBe(90);
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
  });

  it("does not let a capture and a release of one job both happen when they race", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 1_000);
    for (let i = 0; i < 10; i++) {
      const job = await insertTestJob(t.db, { guildId: g });
      await reserveCredits(t.db, { guildId: g, userId: "u", jobId: job.id, amount: 10 });
      const outcomes = await Promise.allSettled([
        captureCredits(t.db, { guildId: g, jobId: job.id, charged: 7 }),
        releaseCredits(t.db, { guildId: g, jobId: job.id, reason: "timeout" }),
      ]);
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    }
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
  });

  it("records and flags an adjustment when the API charged more than was held", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 100);
    const job = await insertTestJob(t.db, { guildId: g, userId: "bob" });
    await reserveCredits(t.db, { guildId: g, userId: "bob", jobId: job.id, amount: 30 });
    const settled = await captureCredits(t.db, { guildId: g, jobId: job.id, charged: 45 });
    expect(settled).toMatchObject({
      held: 30,
      charged: 45,
      refunded: 0,
      adjusted: 15,
      shortfall: 0,
      flagged: true,
    });
    expect(settled.balance).toBe(55);
    const adjustment = (await ledgerOf(g)).find((r) => r.kind === "adjustment");
    expect(adjustment).toMatchObject({ amount: -15, flagged: true, userId: "bob", jobId: job.id });
    expect(adjustment!.reason).toContain("15 more than the 30 held");
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
    const usage = await getUsage(t.db, { guildId: g, userId: "bob" });
    expect(usage).toMatchObject({ charged: 45, held: 0, jobs: 1 });
  });

  it("takes only what is there when the excess is larger than the balance, and says so", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 35);
    const job = await insertTestJob(t.db, { guildId: g });
    await reserveCredits(t.db, { guildId: g, userId: "u", jobId: job.id, amount: 30 });
    const settled = await captureCredits(t.db, { guildId: g, jobId: job.id, charged: 50 });
    expect(settled).toMatchObject({ adjusted: 5, shortfall: 15, flagged: true, balance: 0 });
    const adjustment = (await ledgerOf(g)).find((r) => r.kind === "adjustment");
    expect(adjustment).toMatchObject({ amount: -5, flagged: true });
    expect(adjustment!.reason).toContain("15 short");
    expect(await getBalance(t.db, g)).toBe(0);
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
  });

  it("grants credits, creating the guild, and clamps a negative grant at zero", async () => {
    const g = newGuild();
    expect(
      await grantCredits(t.db, { guildId: g, amount: 50, actorId: "mod", reason: "event prize" }),
    ).toMatchObject({
      requested: 50,
      applied: 50,
      balance: 50,
    });
    expect(
      await grantCredits(t.db, { guildId: g, amount: -20, actorId: "mod", reason: "oops" }),
    ).toMatchObject({
      applied: -20,
      balance: 30,
    });
    expect(
      await grantCredits(t.db, { guildId: g, amount: -100, actorId: "mod", reason: "reset" }),
    ).toMatchObject({
      requested: -100,
      applied: -30,
      balance: 0,
    });
    const ledger = await ledgerOf(g);
    expect(ledger.map((r) => r.amount)).toEqual([50, -20, -30]);
    expect(ledger[2]).toMatchObject({ actorId: "mod", kind: "grant" });
    expect(ledger[2]!.reason).toContain("reset");
    await expectLedgerError(
      grantCredits(t.db, { guildId: g, amount: 0, actorId: "mod", reason: "" }),
      "invalid_amount",
    );
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
  });

  it("keeps guilds apart: guild A cannot spend, settle, see or grant against guild B's job", async () => {
    const a = newGuild();
    const b = newGuild();
    await ensureGuild(t.db, a, 100);
    await ensureGuild(t.db, b, 100);
    const jobB = await insertTestJob(t.db, { guildId: b });
    const heldB = await insertTestJob(t.db, { guildId: b });
    await reserveCredits(t.db, { guildId: b, userId: "u", jobId: heldB.id, amount: 20 });

    await expectLedgerError(
      reserveCredits(t.db, { guildId: a, userId: "u", jobId: jobB.id, amount: 10 }),
      "job_not_found",
    );
    await expectLedgerError(
      captureCredits(t.db, { guildId: a, jobId: heldB.id, charged: 5 }),
      "job_not_found",
    );
    await expectLedgerError(
      releaseCredits(t.db, { guildId: a, jobId: heldB.id, reason: "x" }),
      "job_not_found",
    );
    // Nothing moved on either side.
    expect(await getBalance(t.db, a)).toBe(100);
    expect(await getBalance(t.db, b)).toBe(80);
    expect(await ledgerOf(a)).toHaveLength(1);
    // A usage query for A does not count B's jobs, though they share users.
    expect(await getUsage(t.db, { guildId: a })).toMatchObject({ charged: 0, jobs: 0, users: [] });
    // The schema itself refuses a movement booked to A for B's job.
    await expect(
      t.db.insert(creditLedger).values({ guildId: a, jobId: jobB.id, kind: "hold", amount: -1 }),
    ).rejects.toThrow();
    // A grant to A lands on A only.
    await grantCredits(t.db, { guildId: a, amount: 5, actorId: "mod", reason: "x" });
    expect(await getBalance(t.db, b)).toBe(80);
    expect(await checkInvariants(t.db, a)).toEqual({ ok: true, problems: [] });
    expect(await checkInvariants(t.db, b)).toEqual({ ok: true, problems: [] });
  });

  it("reports usage per user: holds − releases − refunds + adjustments, with job counts", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 1_000);
    const settle = async (
      userId: string,
      held: number,
      outcome: "capture" | "release" | "running",
      charged = 0,
    ) => {
      const job = await insertTestJob(t.db, { guildId: g, userId });
      await reserveCredits(t.db, { guildId: g, userId, jobId: job.id, amount: held });
      if (outcome === "capture") {
        await captureCredits(t.db, { guildId: g, jobId: job.id, charged });
        await t.db
          .update(jobs)
          .set({ state: "completed" })
          .where(and(eq(jobs.id, job.id), eq(jobs.guildId, g)));
      }
      if (outcome === "release") {
        await releaseCredits(t.db, { guildId: g, jobId: job.id, reason: "failed" });
        await t.db
          .update(jobs)
          .set({ state: "failed" })
          .where(and(eq(jobs.id, job.id), eq(jobs.guildId, g)));
      }
    };
    await settle("alice", 50, "capture", 40); // 40
    await settle("alice", 50, "release"); // 0
    await settle("alice", 30, "running"); // 30, still held
    await settle("bob", 20, "capture", 25); // 25 (adjustment of 5)
    const all = await getUsage(t.db, { guildId: g });
    expect(all).toMatchObject({ guildId: g, charged: 95, held: 30, jobs: 4, completed: 2, failed: 1 });
    expect(all.users).toEqual([
      { userId: "alice", charged: 70, held: 30, jobs: 3, completed: 1, failed: 1 },
      { userId: "bob", charged: 25, held: 0, jobs: 1, completed: 1, failed: 0 },
    ]);
    expect(await getUsage(t.db, { guildId: g, userId: "bob" })).toMatchObject({ charged: 25, jobs: 1 });
    expect(await getUsage(t.db, { guildId: g, since: new Date(Date.now() + 3_600_000) })).toMatchObject({
      charged: 0,
      jobs: 0,
    });
    expect(await getUsage(t.db, { guildId: g, until: new Date(Date.now() + 3_600_000) })).toMatchObject({
      jobs: 4,
    });
    expect(1_000 - (await getBalance(t.db, g))).toBe(all.charged);
  });

  it("finds a balance that does not match its ledger", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 10);
    expect((await checkInvariants(t.db)).ok).toBe(true);
    // Tamper behind the ledger's back.
    await t.db.update(guilds).set({ balance: 11 }).where(eq(guilds.id, g));
    const report = await checkInvariants(t.db, g);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([`guild ${g}: balance 11 but the ledger sums to 10`]);
    const job = await insertTestJob(t.db, { guildId: g });
    await t.db.insert(creditLedger).values({ guildId: g, jobId: job.id, kind: "release", amount: 1 });
    expect((await checkInvariants(t.db, g)).problems).toContain(`job ${job.id}: 0 holds`);
    // The balance check constraint keeps a balance from ever being stored below zero.
    await expect(t.db.update(guilds).set({ balance: -1 }).where(eq(guilds.id, g))).rejects.toThrow();
  });

  it("runs inside a caller's transaction and rolls back with it", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 100);
    await expect(
      t.db.transaction(async (tx) => {
        const job = await insertTestJob(tx, { guildId: g });
        const held = await reserveCredits(tx, { guildId: g, userId: "u", jobId: job.id, amount: 60 });
        expect(held).toEqual({ ok: true, balance: 40, alreadyHeld: false });
        throw new Error("the caller changed its mind");
      }),
    ).rejects.toThrow("changed its mind");
    expect(await getBalance(t.db, g)).toBe(100);
    expect(await t.db.select().from(jobs).where(eq(jobs.guildId, g))).toHaveLength(0);
    expect(await checkInvariants(t.db, g)).toEqual({ ok: true, problems: [] });
  });
});
