import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bot, createKlingClient, startBot } from "../../src/bot.js";
import { loadConfig } from "../../src/config.js";
import { type DatabaseHandle, openDatabase } from "../../src/db/database.js";
import { creditLedger, jobs } from "../../src/db/schema.js";
import type { KlingClient } from "../../src/kling/client.js";
import { checkInvariants } from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import { TEST_DATABASE_URL } from "../helpers/db.js";
import { CHANNEL_ID, GUILD_ID, type Stack, startStack, waitForVideo } from "./harness.js";

/**
 * Several pollers on one Postgres: the stack's own bot (gateway + poller) and two worker processes' worth
 * of pollers (separate pools, separate lease owners). Every job is delivered once and settled once.
 */
/** The API account's cap, shared by the three pollers through the database. */
const CAP = 3;

describe.runIf(TEST_DATABASE_URL)("several pollers on one Postgres", () => {
  let stack: Stack;
  const workers: { bot: Bot; kling: KlingClient; db: DatabaseHandle }[] = [];

  beforeAll(async () => {
    stack = await startStack({
      driver: "postgres",
      sim: { taskDurationMs: 400 },
      env: { KLING_MAX_IN_FLIGHT: String(CAP) },
    });
    const config = loadConfig({ ...stack.env, PROCESS_ROLE: "worker" }, ["bot", "kling"]);
    for (let i = 0; i < 2; i++) {
      const db = await openDatabase({
        databaseUrl: stack.database.url!,
        dataDir: "memory://",
        logger: silentLogger(),
      });
      const kling = createKlingClient(config, silentLogger());
      const bot = await startBot({ config, logger: silentLogger(), database: db, kling });
      workers.push({ bot, kling, db });
    }
  });

  afterAll(async () => {
    for (const w of workers) {
      await w.bot.stop();
      await w.kling.close();
      await w.db.close();
    }
    await stack?.close();
  });

  it("delivers each of 24 jobs exactly once and charges each once, never running more than the cap at once", async () => {
    const ids = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        stack.discord
          .sendInteraction(
            stack.discord.chatInput({
              name: "video",
              subcommand: "text",
              options: { prompt: `Clip ${i}` },
              userId: "900000000000000099",
              guildId: GUILD_ID,
              channelId: CHANNEL_ID,
            }),
          )
          .then((s) => s.id),
      ),
    );
    const messages = await Promise.all(
      ids.map((id) => waitForVideo(stack.discord, id, { timeoutMs: 30_000 })),
    );
    // Let any would-be second delivery land before counting.
    await new Promise((r) => setTimeout(r, 1_000));
    for (const m of messages) {
      expect([m.createdWith, ...m.edits].filter((w) => w.files.length > 0)).toHaveLength(1);
    }
    for (const id of ids) expect(stack.discord.interactionState(id)!.followUps).toHaveLength(1);
    const uploads = stack.discord.channelMessages(CHANNEL_ID).flatMap((m) => [m.createdWith, ...m.edits]);
    expect(uploads.filter((w) => w.files.length > 0)).toHaveLength(24);
    const db = stack.database.db;
    const rows = await db.select().from(jobs).where(eq(jobs.guildId, GUILD_ID));
    expect(rows.filter((j) => j.state === "completed")).toHaveLength(24);
    const taskIds = new Set(rows.map((j) => j.klingTaskId));
    expect(taskIds.size).toBe(24);
    expect(stack.sim.requests.filter((r) => r.path === "/api/generate")).toHaveLength(24);
    const captures = await db.select().from(creditLedger).where(eq(creditLedger.kind, "capture"));
    expect(captures).toHaveLength(24);
    expect(await checkInvariants(db)).toEqual({ ok: true, problems: [] });
    // The API account never ran more tasks at once than the cap, although three processes were sending.
    const events = [...stack.sim.tasks.values()].flatMap((t) => [
      { at: t.createdAt, step: 1 },
      { at: t.doneAt, step: -1 },
    ]);
    events.sort((a, b) => a.at - b.at || a.step - b.step);
    let running = 0;
    let peak = 0;
    for (const e of events) {
      running += e.step;
      peak = Math.max(peak, running);
    }
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(CAP);
  });
});
