import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, MEMORY_DATA_DIR, openDatabase } from "../../src/db/database.js";
import {
  allowanceMonth,
  ensureGuild,
  getBalance,
  grantCredits,
  LedgerError,
  nextTopUp,
  reserveCredits,
  setAllowance,
  topUpAllowances,
} from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import { insertTestJob, openTestDatabase, type TestDatabase, testDrivers } from "../helpers/db.js";
import { expectInvariants, guildRow, ledgerOf, newGuild } from "./helpers.js";

const at = (iso: string) => new Date(iso);

describe("the monthly calendar (UTC)", () => {
  it("names the month of a time in UTC", () => {
    expect(allowanceMonth(at("2026-12-01T00:00:00.000Z"))).toBe("2026-12");
    expect(allowanceMonth(at("2026-11-30T23:59:59.999Z"))).toBe("2026-11");
    // 08:30 on 1 December in Tokyo is still November in UTC.
    expect(allowanceMonth(at("2026-12-01T08:30:00+09:00"))).toBe("2026-11");
  });

  it("puts the next top-up at the next 1st, 00:00 UTC", () => {
    expect(nextTopUp(at("2026-12-15T12:00:00Z")).toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(nextTopUp(at("2026-12-01T00:00:00.000Z")).toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(nextTopUp(at("2026-11-30T23:59:59.999Z")).toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(nextTopUp(at("2027-01-31T10:00:00Z")).toISOString()).toBe("2027-02-01T00:00:00.000Z");
    expect(nextTopUp(at("2028-02-29T23:00:00Z")).toISOString()).toBe("2028-03-01T00:00:00.000Z");
  });
});

describe.each(testDrivers())("monthly allowance on %s", (driver) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(driver);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Only what a call did to the given guilds (the database is shared by the tests of this file). */
  const mine = (done: { guildId: string; added: number }[], ids: readonly string[]) =>
    done.filter((d) => ids.includes(d.guildId)).sort((a, b) => a.guildId.localeCompare(b.guildId));

  it("tops up each guild exactly once when three callers run at the same moment", async () => {
    // Three database handles: on Postgres three pools (as three processes would have); PGlite is one
    // process, so there the three callers share it.
    const extra: DatabaseHandle[] =
      driver === "postgres"
        ? await Promise.all(
            [1, 2].map(() =>
              openDatabase({
                databaseUrl: t.url,
                dataDir: MEMORY_DATA_DIR,
                logger: silentLogger(),
                migrate: false,
                poolSize: 3,
              }),
            ),
          )
        : [];
    try {
      const dbs = [t.db, ...(extra.length ? extra.map((h) => h.db) : [t.db, t.db])];
      const ids = Array.from({ length: 30 }, () => newGuild());
      for (const [i, g] of ids.entries()) {
        await ensureGuild(t.db, g, i % 3 === 0 ? 0 : 100);
        await setAllowance(t.db, { guildId: g, credits: 1_000, actorId: "op", now: at("2026-11-10T00:00Z") });
      }
      const month = at("2026-12-01T00:00:00.000Z");
      const results = await Promise.all(dbs.map((db) => topUpAllowances(db, month)));

      const all = results.flatMap((r) => mine(r, ids));
      expect(all.map((d) => d.guildId).sort()).toEqual([...ids].sort());
      for (const g of ids) {
        expect(await getBalance(t.db, g)).toBe(1_000);
        const grants = (await ledgerOf(t.db, g)).filter((r) => r.actorId === "allowance");
        expect(grants).toHaveLength(1);
        expect(grants[0]).toMatchObject({ kind: "grant", reason: "monthly allowance 2026-12" });
        expect((await guildRow(t.db, g))?.allowanceMonth).toBe("2026-12");
      }
      // A fourth call in the same month finds nothing to do.
      expect(mine(await topUpAllowances(t.db, at("2026-12-31T23:59:59Z")), ids)).toEqual([]);
      await expectInvariants(t.db);
    } finally {
      await Promise.all(extra.map((h) => h.close()));
    }
  });

  it("tops up at the start of each UTC month and not again within it, across a year's end", async () => {
    const g = newGuild();
    await grantCredits(t.db, { guildId: g, amount: 200, actorId: "op", reason: "first credits" });
    await setAllowance(t.db, { guildId: g, credits: 500, actorId: "op", now: at("2026-10-15T09:00Z") });
    // Set in October: October counts as served, whenever a process starts during it.
    expect(mine(await topUpAllowances(t.db, at("2026-10-31T23:59:59.999Z")), [g])).toEqual([]);
    expect(await getBalance(t.db, g)).toBe(200);

    expect(mine(await topUpAllowances(t.db, at("2026-11-01T00:00:00.000Z")), [g])).toEqual([
      { guildId: g, added: 300 },
    ]);
    expect(await getBalance(t.db, g)).toBe(500);

    // Spending during November is not refilled until December.
    await grantCredits(t.db, { guildId: g, amount: -450, actorId: "op", reason: "spent" });
    expect(mine(await topUpAllowances(t.db, at("2026-11-30T23:59:59.999Z")), [g])).toEqual([]);
    expect(await getBalance(t.db, g)).toBe(50);

    expect(mine(await topUpAllowances(t.db, at("2026-12-01T00:00:00.000Z")), [g])).toEqual([
      { guildId: g, added: 450 },
    ]);
    // A process whose clock lags behind does not serve November again.
    expect(mine(await topUpAllowances(t.db, at("2026-11-20T00:00:00Z")), [g])).toEqual([]);

    // Emptied beyond its balance (clamped at zero), then January refills it in full.
    const clamp = await grantCredits(t.db, { guildId: g, amount: -10_000, actorId: "op", reason: "reset" });
    expect(clamp).toMatchObject({ requested: -10_000, applied: -500, balance: 0 });
    expect(mine(await topUpAllowances(t.db, at("2027-01-01T00:00:00.000Z")), [g])).toEqual([
      { guildId: g, added: 500 },
    ]);

    const rows = (await ledgerOf(t.db, g)).filter((r) => r.actorId === "allowance");
    expect(rows.map((r) => [r.amount, r.reason])).toEqual([
      [300, "monthly allowance 2026-11"],
      [450, "monthly allowance 2026-12"],
      [500, "monthly allowance 2027-01"],
    ]);
    expect((await guildRow(t.db, g))?.allowanceMonth).toBe("2027-01");
    await expectInvariants(t.db, g);
  });

  it("only records the month when the balance is at or above the allowance", async () => {
    const above = newGuild();
    const equal = newGuild();
    const below = newGuild();
    for (const [g, credits] of [
      [above, 800],
      [equal, 500],
      [below, 120],
    ] as const) {
      await grantCredits(t.db, { guildId: g, amount: credits, actorId: "op", reason: "credits" });
      await setAllowance(t.db, { guildId: g, credits: 500, actorId: "op", now: at("2026-06-10T00:00Z") });
    }
    // Credits held by a job in flight are not in the balance: the top-up counts what is left to spend.
    const job = await insertTestJob(t.db, { guildId: below });
    await reserveCredits(t.db, { guildId: below, userId: job.userId, jobId: job.id, amount: 20 });

    const done = mine(await topUpAllowances(t.db, at("2026-07-01T00:00Z")), [above, equal, below]);
    expect(done).toEqual(
      [
        { guildId: above, added: 0 },
        { guildId: equal, added: 0 },
        { guildId: below, added: 400 },
      ].sort((a, b) => a.guildId.localeCompare(b.guildId)),
    );
    expect(await getBalance(t.db, above)).toBe(800);
    expect(await getBalance(t.db, equal)).toBe(500);
    expect(await getBalance(t.db, below)).toBe(500);
    for (const g of [above, equal]) {
      expect((await ledgerOf(t.db, g)).filter((r) => r.actorId === "allowance")).toEqual([]);
      expect((await guildRow(t.db, g))?.allowanceMonth).toBe("2026-07");
    }
    for (const g of [above, equal, below]) await expectInvariants(t.db, g);
  });

  it("sets, changes and removes an allowance without moving credits, and records who did it", async () => {
    const g = newGuild();
    await ensureGuild(t.db, g, 50);
    const june = at("2026-06-20T00:00Z");
    expect(await setAllowance(t.db, { guildId: g, credits: 300, actorId: "op-1", now: june })).toEqual({
      previous: null,
      allowance: 300,
      changed: true,
      balance: 50,
    });
    expect(await setAllowance(t.db, { guildId: g, credits: 300, actorId: "op-2", now: june })).toMatchObject({
      changed: false,
    });
    expect(await getBalance(t.db, g)).toBe(50);
    expect(mine(await topUpAllowances(t.db, june), [g])).toEqual([]);

    // Changed before July's top-up: July uses the new figure.
    await setAllowance(t.db, { guildId: g, credits: 400, actorId: "op-2", now: june });
    expect(mine(await topUpAllowances(t.db, at("2026-07-01T00:00Z")), [g])).toEqual([
      { guildId: g, added: 350 },
    ]);

    // Removed: August passes without a top-up.
    await grantCredits(t.db, { guildId: g, amount: -100, actorId: "op", reason: "spent" });
    expect(await setAllowance(t.db, { guildId: g, credits: null, actorId: "op-1", now: june })).toMatchObject(
      {
        previous: 400,
        allowance: null,
        changed: true,
      },
    );
    expect(mine(await topUpAllowances(t.db, at("2026-08-01T00:00Z")), [g])).toEqual([]);
    expect(await getBalance(t.db, g)).toBe(300);

    // Given again in the middle of September: the first top-up is October's.
    await setAllowance(t.db, { guildId: g, credits: 1_000, actorId: "op-1", now: at("2026-09-14T00:00Z") });
    expect(mine(await topUpAllowances(t.db, at("2026-09-15T00:00Z")), [g])).toEqual([]);
    expect(mine(await topUpAllowances(t.db, at("2026-10-01T00:00Z")), [g])).toEqual([
      { guildId: g, added: 700 },
    ]);

    const rows = await ledgerOf(t.db, g);
    expect(rows.filter((r) => r.amount === 0).map((r) => [r.kind, r.actorId, r.reason])).toEqual([
      ["grant", "op-1", "monthly allowance set to 300 (was none)"],
      ["grant", "op-2", "monthly allowance set to 400 (was 300)"],
      ["grant", "op-1", "monthly allowance removed (was 400)"],
      ["grant", "op-1", "monthly allowance set to 1000 (was none)"],
    ]);
    await expectInvariants(t.db, g);
  });

  it("creates an unknown guild when given an allowance, and refuses an allowance that is not a whole number ≥ 1", async () => {
    const g = newGuild();
    await setAllowance(t.db, { guildId: g, credits: 10, actorId: "op" });
    expect(await guildRow(t.db, g)).toMatchObject({ balance: 0, monthlyAllowance: 10 });
    for (const credits of [0, -5, 1.5, Number.NaN]) {
      const err = await setAllowance(t.db, { guildId: g, credits, actorId: "op" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LedgerError);
      expect((err as LedgerError).code).toBe("invalid_amount");
    }
    expect((await guildRow(t.db, g))?.monthlyAllowance).toBe(10);
  });

  it("tops up only the guilds that have an allowance, each by its own figure", async () => {
    const withAllowance = newGuild();
    const without = newGuild();
    await ensureGuild(t.db, withAllowance, 0);
    await ensureGuild(t.db, without, 5);
    await setAllowance(t.db, {
      guildId: withAllowance,
      credits: 70,
      actorId: "op",
      now: at("2026-03-03T00:00Z"),
    });
    const done = await topUpAllowances(t.db, at("2026-04-01T00:00Z"));
    expect(mine(done, [withAllowance, without])).toEqual([{ guildId: withAllowance, added: 70 }]);
    expect(await getBalance(t.db, without)).toBe(5);
    expect(await ledgerOf(t.db, without)).toHaveLength(1);
    expect((await guildRow(t.db, without))?.allowanceMonth).toBeNull();
    await expectInvariants(t.db);
  });
});
