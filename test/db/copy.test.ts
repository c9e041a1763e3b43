import { describe, expect, it } from "vitest";
import { copyDatabase } from "../../src/db/copy.js";
import { openDatabase } from "../../src/db/database.js";
import { jobs, memberFreezes } from "../../src/db/schema.js";
import {
  captureCredits,
  checkInvariants,
  ensureGuild,
  getBalance,
  grantCredits,
  releaseCredits,
  reserveCredits,
} from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import { createPgliteDir, insertTestJob, openTestDatabase, TEST_DATABASE_URL } from "../helpers/db.js";

describe.runIf(TEST_DATABASE_URL)("moving from PGlite to Postgres", () => {
  it("copies guilds, jobs and the ledger with their ids, and new rows continue after them", async () => {
    const dir = await createPgliteDir();
    const target = await openTestDatabase("postgres");
    try {
      const source = await openDatabase({ dataDir: dir.dir, logger: silentLogger() });
      const guilds = ["100000000000000001", "100000000000000002"];
      try {
        for (const g of guilds) {
          await ensureGuild(source.db, g, 1_000);
          for (let i = 0; i < 3; i++) {
            const job = await insertTestJob(source.db, { guildId: g, estimatedCost: 100 });
            await reserveCredits(source.db, { guildId: g, userId: "u", jobId: job.id, amount: 100 });
            if (i === 0) await captureCredits(source.db, { guildId: g, jobId: job.id, charged: 80 });
            if (i === 1) await releaseCredits(source.db, { guildId: g, jobId: job.id, reason: "test" });
          }
        }
        await grantCredits(source.db, { guildId: guilds[0]!, amount: 50, actorId: "op", reason: "gift" });
        await source.db
          .insert(memberFreezes)
          .values({ guildId: guilds[1]!, userId: "100000000000000009", actorId: "m", reason: "spam" });
        // Small batches, so that every table is copied in several.
        const report = await copyDatabase(source.db, target.db, { batchSize: 2 });
        expect(report.rows).toEqual({ guilds: 2, jobs: 6, credit_ledger: 2 + 2 * 5 + 1, member_freezes: 1 });
        expect(await target.db.select().from(memberFreezes)).toMatchObject([{ reason: "spam" }]);
        for (const g of guilds) expect(await getBalance(target.db, g)).toBe(await getBalance(source.db, g));
        expect(await checkInvariants(target.db)).toEqual({ ok: true, problems: [] });
        await expect(copyDatabase(source.db, target.db)).rejects.toThrow(/already has data/);
      } finally {
        await source.close();
      }
      const next = await insertTestJob(target.db, { guildId: "100000000000000001" });
      expect(next.id).toBe(7);
      const all = await target.db.select().from(jobs);
      expect(all).toHaveLength(7);
    } finally {
      await target.close();
      await dir.remove();
    }
  });
});
