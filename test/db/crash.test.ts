import { resolve } from "node:path";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { creditLedger } from "../../src/db/schema.js";
import { checkInvariants } from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import { FixtureProcess } from "../helpers/child.js";
import { createPgliteDir, createPostgresDatabase, testDrivers } from "../helpers/db.js";

const RESERVE_STREAM = resolve(import.meta.dirname, "fixtures/reserve-stream.ts");
const GUILD = "333333333333333333";

/**
 * A process killed with SIGKILL in the middle of a stream of reservations: whatever it reported as
 * committed is there after a restart, and the books still balance (the half-done statement or
 * transaction left nothing behind).
 */
describe.each(testDrivers())("a SIGKILL during reservations on %s", (driver) => {
  it("loses no committed movement and leaves the ledger consistent", async () => {
    let place: { databaseUrl: string | undefined; dataDir: string; cleanup: () => Promise<void> };
    if (driver === "pglite") {
      const fresh = await createPgliteDir();
      place = { databaseUrl: undefined, dataDir: fresh.dir, cleanup: fresh.remove };
    } else {
      const fresh = await createPostgresDatabase();
      place = { databaseUrl: fresh.url, dataDir: "unused", cleanup: fresh.drop };
    }
    const child = new FixtureProcess(RESERVE_STREAM, { ...place, guildId: GUILD });
    try {
      await child.waitFor((lines) => lines.length >= 60, "60 committed movements", 40_000);
      child.kill("SIGKILL");
      // Reaped, so its pid is gone and the stale PGlite lock can be taken over.
      expect((await child.exited).signal).toBe("SIGKILL");

      const reported = child.lines.filter((l) => l !== "ready").map((l) => l.split(" ") as [string, string]);
      const handle = await openDatabase({ ...place, logger: silentLogger() });
      try {
        const rows = await handle.db
          .select({ jobId: creditLedger.jobId, kind: creditLedger.kind })
          .from(creditLedger)
          .where(eq(creditLedger.guildId, GUILD));
        const present = new Set(rows.map((r) => `${r.kind} ${r.jobId}`));
        const missing = reported.filter(([kind, id]) => !present.has(`${kind} ${id}`));
        expect(missing).toEqual([]);
        expect(await checkInvariants(handle.db)).toEqual({ ok: true, problems: [] });
      } finally {
        await handle.close();
      }
    } finally {
      await child.stop();
      await place.cleanup();
    }
  });
});
