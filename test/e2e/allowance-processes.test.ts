import { fileURLToPath } from "node:url";
import { and, eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { type DatabaseHandle, openDatabase } from "../../src/db/database.js";
import { creditLedger, guilds } from "../../src/db/schema.js";
import {
  allowanceMonth,
  checkInvariants,
  ensureGuild,
  getBalance,
  grantCredits,
  setAllowance,
} from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import { FixtureProcess } from "../helpers/child.js";
import { createPostgresDatabase, TEST_DATABASE_URL } from "../helpers/db.js";
import { GUILD_ID, mainEnv, startFakes } from "./harness.js";

/**
 * The monthly top-up with three bot processes on one Postgres database, through the real entry point
 * (`src/main.ts` in child processes: one gateway and poller, two workers). Each looks for allowances due at
 * start and every ALLOWANCE_CHECK_INTERVAL_MS (here 200 ms, so they race often); a month is served once.
 * A month comes due by setting the server's last served month back (`allowance_month`), which is what the
 * turn of a month looks like to the check: the same code path, without moving any process's clock.
 */

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
/** A server whose balance is above its allowance: its month is recorded, nothing is added. */
const RICH = "960000000000000001";

describe.runIf(TEST_DATABASE_URL)("the monthly top-up with three processes on one Postgres", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  });

  it("tops up each server exactly once per month, at start and on the interval", {
    timeout: 180_000,
  }, async () => {
    const { discord, sim } = await startFakes(cleanups, { taskMs: 500 });
    const fresh = await createPostgresDatabase();
    cleanups.push(() => fresh.drop());
    const db: DatabaseHandle = await openDatabase({
      databaseUrl: fresh.url,
      dataDir: "memory://",
      logger: silentLogger(),
    });
    cleanups.push(() => db.close());
    const now = new Date();
    const month = allowanceMonth(now);
    const lastMonth = allowanceMonth(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15)));
    /** The turn of the month as the check sees it: the last month served is the one before. */
    const monthComesDue = () =>
      db.db.update(guilds).set({ allowanceMonth: lastMonth }).where(eq(guilds.id, GUILD_ID));

    await ensureGuild(db.db, GUILD_ID, 10_000);
    await setAllowance(db.db, { guildId: GUILD_ID, credits: 50_000, actorId: "cli", now });
    await ensureGuild(db.db, RICH, 90_000);
    await setAllowance(db.db, { guildId: RICH, credits: 50_000, actorId: "cli", now });
    await monthComesDue();
    await db.db.update(guilds).set({ allowanceMonth: lastMonth }).where(eq(guilds.id, RICH));

    const env = mainEnv(discord, sim, { DATABASE_URL: fresh.url, ALLOWANCE_CHECK_INTERVAL_MS: "200" });
    const processes = ["all", "worker", "worker"].map((role) => {
      const child = new FixtureProcess(MAIN, undefined, { ...env, PROCESS_ROLE: role });
      cleanups.push(() => child.stop());
      return child;
    });
    await Promise.all(
      processes.map((p) =>
        p.waitFor((lines) => lines.some((l) => l.includes('"bot started"')), "the bot to start", 60_000),
      ),
    );

    const topUps = () =>
      db.db
        .select()
        .from(creditLedger)
        .where(and(eq(creditLedger.guildId, GUILD_ID), eq(creditLedger.actorId, "allowance")))
        .orderBy(creditLedger.id);
    /** Log lines of the top-up of the test server, from all three processes. */
    const logged = () =>
      processes.flatMap((p) =>
        p.lines.filter((l) => l.includes('"monthly allowance topped up"') && l.includes(GUILD_ID)),
      );
    // Every process has looked at start and then about ten times more.
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await topUps()).map((r) => [r.amount, r.reason])).toEqual([
      [40_000, `monthly allowance ${month}`],
    ]);
    expect(logged()).toHaveLength(1);
    expect(await getBalance(db.db, GUILD_ID)).toBe(50_000);
    expect(await getBalance(db.db, RICH)).toBe(90_000);
    const [rich] = await db.db.select().from(guilds).where(eq(guilds.id, RICH));
    expect(rich?.allowanceMonth).toBe(month);

    // While all three run, the next month comes due: served once more, by one of them.
    await grantCredits(db.db, { guildId: GUILD_ID, amount: -30_000, actorId: "cli", reason: "spent" });
    await monthComesDue();
    const deadline = Date.now() + 20_000;
    while ((await topUps()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await topUps()).map((r) => r.amount)).toEqual([40_000, 30_000]);
    expect(logged()).toHaveLength(2);
    expect(await getBalance(db.db, GUILD_ID)).toBe(50_000);

    for (const p of processes) p.kill("SIGTERM");
    for (const p of processes) expect((await p.exited).code).toBe(0);
    expect(await checkInvariants(db.db)).toEqual({ ok: true, problems: [] });
  });
});
