import { fileURLToPath } from "node:url";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { creditLedger, jobs } from "../../src/db/schema.js";
import { checkInvariants } from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import { FixtureProcess } from "../helpers/child.js";
import { PG_SERVER_UNAVAILABLE, startPgServer } from "../helpers/pg-server.js";
import { mainEnv, startFakes, videoText, waitForVideo } from "./harness.js";

/**
 * The database goes away after the API made a task and before the bot stored its id. The bot keeps the
 * id, logs it at warn for the operator, retries the write through the restart, and the job goes on to its
 * video: no orphaned task, no refund of a video that is being made. Runs the real entry point against a
 * private Postgres server this test stops and starts itself.
 */

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

describe.skipIf(PG_SERVER_UNAVAILABLE !== undefined)(
  "a database restart between submit and storing the task id",
  () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      cleanups.length = 0;
    });

    it("stores the task id once the database is back, and delivers the video once", async () => {
      const pg = await startPgServer();
      cleanups.push(() => pg.close());
      const { discord, sim } = await startFakes(cleanups, { taskMs: 300 });
      const child = new FixtureProcess(MAIN, undefined, mainEnv(discord, sim, { DATABASE_URL: pg.url }));
      cleanups.push(() => child.stop());
      await child.waitFor(
        (lines) => lines.some((l) => l.includes('"bot started"')),
        "the bot to start",
        40_000,
      );

      // The API makes the task at once and answers after the database is gone.
      sim.inject({ route: "generate", kind: "delay", ms: 1_500, times: 1 });
      const { id } = await discord.sendInteraction(videoText(discord, "A bridge in fog"));
      const deadline = Date.now() + 10_000;
      while (!sim.requests.some((r) => r.path === "/api/generate")) {
        if (Date.now() > deadline) throw new Error("no generate request");
        await new Promise((r) => setTimeout(r, 20));
      }
      await pg.stop({ mode: "immediate" });
      await child.waitFor(
        (lines) => lines.some((l) => l.includes("storing a created task's id") && l.includes('"level":40')),
        "a warning naming the task id",
        20_000,
      );
      const warning = child.lines.find((l) => l.includes("storing a created task's id"))!;
      const taskId = [...sim.tasks.keys()][0]!;
      expect(warning).toContain(taskId);
      await new Promise((r) => setTimeout(r, 1_000));
      await pg.start();

      const done = await waitForVideo(discord, id, { timeoutMs: 40_000 }).catch((err) => {
        throw new Error(`${err}\nbot log:\n${child.lines.slice(-40).join("\n")}`);
      });
      expect(done.attachments).toHaveLength(1);
      child.kill("SIGTERM");
      await child.exited;

      expect(sim.tasks.size).toBe(1);
      const db = await openDatabase({ databaseUrl: pg.url, dataDir: "memory://", logger: silentLogger() });
      try {
        const [job] = await db.db.select().from(jobs).where(eq(jobs.interactionId, id));
        expect(job?.state).toBe("completed");
        expect(job?.klingTaskId).toBe(taskId);
        const rows = await db.db.select().from(creditLedger).where(eq(creditLedger.jobId, job!.id));
        expect(rows.map((r) => r.kind).sort()).toEqual(["capture", "hold"]);
        expect((await checkInvariants(db.db)).ok).toBe(true);
      } finally {
        await db.close();
      }
    }, 90_000);
  },
);
