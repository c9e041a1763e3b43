import { fileURLToPath } from "node:url";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { type DatabaseHandle, openDatabase } from "../../src/db/database.js";
import { creditLedger, jobs } from "../../src/db/schema.js";
import type { KlingSimulator } from "../../src/kling-sim/server.js";
import { checkInvariants, getBalance } from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import type { FakeDiscord } from "../fakes/discord/index.js";
import { FixtureProcess } from "../helpers/child.js";
import { createPgliteDir, createPostgresDatabase, testDrivers } from "../helpers/db.js";
import {
  CHANNEL_ID,
  GUILD_ID,
  mainEnv,
  startFakes,
  USER_ID,
  videoMessage,
  videoText,
  waitForVideo,
} from "./harness.js";

/**
 * The real entry point (`src/main.ts`) in child processes, killed with SIGKILL in the middle of a job and
 * started again on the same database: the job is delivered once and charged once.
 */

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

describe.each(testDrivers())("a bot killed mid-job on %s", (driver) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  });

  async function setup(
    taskMs: number,
    discordOptions: { nonceWindowMs?: number } = {},
    envOverrides: Record<string, string> = {},
  ) {
    const { discord, sim } = await startFakes(cleanups, { taskMs, discord: discordOptions });
    let dbEnv: Record<string, string>;
    let openHere: () => Promise<DatabaseHandle>;
    if (driver === "postgres") {
      const fresh = await createPostgresDatabase();
      cleanups.push(() => fresh.drop());
      dbEnv = { DATABASE_URL: fresh.url };
      openHere = () => openDatabase({ databaseUrl: fresh.url, dataDir: "memory://", logger: silentLogger() });
    } else {
      const dir = await createPgliteDir();
      cleanups.push(() => dir.remove());
      dbEnv = { DATA_DIR: dir.dir };
      openHere = () => openDatabase({ dataDir: dir.dir, logger: silentLogger() });
    }
    const env = mainEnv(discord, sim, { ...dbEnv, ...envOverrides });
    const start = () => {
      const child = new FixtureProcess(MAIN, undefined, env);
      cleanups.push(() => child.stop());
      return child;
    };
    return { discord, sim, start, openHere };
  }

  async function waitStarted(child: FixtureProcess) {
    await child.waitFor(
      (lines) => lines.some((l) => l.includes('"bot started"')),
      "the bot to start",
      40_000,
    );
  }

  /** Kill the process with SIGKILL and start the next one on the same database. */
  async function restart(first: FixtureProcess, start: () => FixtureProcess): Promise<FixtureProcess> {
    first.kill("SIGKILL");
    await first.exited;
    const second = start();
    await waitStarted(second);
    return second;
  }

  async function ledger(db: DatabaseHandle, interactionId: string) {
    const [job] = await db.db.select().from(jobs).where(eq(jobs.interactionId, interactionId));
    const rows = await db.db.select().from(creditLedger).where(eq(creditLedger.jobId, job!.id));
    return { job: job!, movements: rows.map((r) => [r.kind, r.amount]).sort() };
  }

  /** Every upload of a file to the test channel, by any write of any message. */
  function uploads(discord: FakeDiscord) {
    return discord
      .channelMessages(CHANNEL_ID)
      .flatMap((m) => [m.createdWith, ...m.edits])
      .filter((w) => w.files.length > 0);
  }

  function generates(sim: KlingSimulator) {
    return sim.requests.filter((r) => r.path === "/api/generate");
  }

  it("resumes a running job after SIGKILL and delivers it once, charged once", {
    timeout: 90_000,
  }, async () => {
    const { discord, sim, start, openHere } = await setup(2_500);
    const first = start();
    await waitStarted(first);
    const { id } = await discord.sendInteraction(videoText(discord, "A lighthouse at night"));
    // Sent to the API (the reply moves from "queued" to "generating"), then killed while it runs.
    await discord.waitFor(
      () => JSON.stringify(discord.interactionState(id)?.original?.embeds ?? "").includes("generating"),
      20_000,
    );
    expect(generates(sim)).toHaveLength(1);
    const second = await restart(first, start);
    await waitForVideo(discord, id, { timeoutMs: 30_000 });
    // Let a would-be second delivery happen before counting.
    await new Promise((r) => setTimeout(r, 500));
    expect(uploads(discord)).toHaveLength(1);
    expect(generates(sim)).toHaveLength(1);

    second.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
    const db = await openHere();
    try {
      const { job, movements } = await ledger(db, id);
      expect(job.state).toBe("completed");
      expect(movements).toEqual([
        ["capture", 0],
        ["hold", -300],
      ]);
      expect(await getBalance(db.db, GUILD_ID)).toBe(10_000 - 300);
      expect((await checkInvariants(db.db)).ok).toBe(true);
    } finally {
      await db.close();
    }
  });

  it("resolves a job caught mid-submit: failed, credits returned, the reply says so", {
    timeout: 90_000,
  }, async () => {
    const { discord, sim, start, openHere } = await setup(500);
    // The API takes the task at once but answers late: the bot dies while waiting for the answer.
    sim.inject({ route: "generate", kind: "delay", ms: 10_000, times: 1 });
    const first = start();
    await waitStarted(first);
    const { id } = await discord.sendInteraction(videoText(discord, "A job in flight"));
    await new Promise<void>((resolve) => {
      const check = () => (generates(sim).length > 0 ? resolve() : setTimeout(check, 20));
      check();
    });
    const second = await restart(first, start);
    const failed = await discord.waitFor(() => {
      const m = discord.interactionState(id)?.original;
      return m && JSON.stringify(m.embeds).includes("failed") ? m : undefined;
    }, 30_000);
    expect(JSON.stringify(failed.embeds)).toMatch(/returned to the server/);
    second.kill("SIGTERM");
    await second.exited;

    const db = await openHere();
    try {
      const { job, movements } = await ledger(db, id);
      expect(job.state, `the second process's last lines:\n${second.lines.slice(-15).join("\n")}`).toBe(
        "failed",
      );
      expect(job.errorCode).toBe("INTERRUPTED");
      expect(movements).toEqual([
        ["hold", -300],
        ["release", 300],
      ]);
      expect(await getBalance(db.db, GUILD_ID)).toBe(10_000);
      expect((await checkInvariants(db.db)).ok).toBe(true);
    } finally {
      await db.close();
    }
  });

  it("posts a video once when it restarts after the post but later than Discord's nonce window", async () => {
    const { discord, start, openHere } = await setup(300, { nonceWindowMs: 500 });
    const first = start();
    await waitStarted(first);
    const { id, token } = await discord.sendInteraction(videoText(discord, "A harbour at dawn"));
    const queued = await discord.waitFor(() => {
      const m = discord.interactionState(id)?.original;
      return m && JSON.stringify(m.embeds).includes("queued") ? m : undefined;
    }, 20_000);
    // The token is gone and the member deleted the reply: the video goes out as a channel post, and the
    // reply cannot become a pointer.
    discord.expireToken(token);
    discord.inject({
      method: "PATCH",
      path: `/channels/${CHANNEL_ID}/messages/${queued.id}`,
      status: 404,
      code: 10008,
      count: 50,
    });
    // The post takes effect, but its answer is late: the bot dies before it can record the message.
    discord.inject({
      method: "POST",
      path: `/channels/${CHANNEL_ID}/messages`,
      processFirst: true,
      delayMs: 30_000,
      status: 500,
      count: 1,
    });
    const isPost = (m: { content: string; createdWith: { route: string } }) =>
      m.createdWith.route === "channel" && m.content.includes("your video is ready");
    await discord.waitFor(() => discord.channelMessages(CHANNEL_ID).find(isPost), 30_000);
    first.kill("SIGKILL");
    await first.exited;
    // Later than the nonce window: a repeated post with the same nonce would be a second message.
    await new Promise((r) => setTimeout(r, 800));

    // The second life finds its earlier post and keeps it instead of posting again.
    const second = start();
    await waitStarted(second);
    await second.waitFor(
      (lines) => lines.some((l) => l.includes('"video delivered"')),
      "the delivery",
      30_000,
    );
    second.kill("SIGTERM");
    await second.exited;
    const posts = discord.channelMessages(CHANNEL_ID).filter(isPost);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.attachments).toHaveLength(1);
    expect(posts[0]!.allowed_mentions).toEqual({ parse: [], users: [USER_ID] });
    expect(uploads(discord)).toHaveLength(1);

    const db = await openHere();
    try {
      const { job, movements } = await ledger(db, id);
      expect(job.state).toBe("completed");
      expect(job.videoMessageId).toBe(posts[0]!.id);
      expect(movements).toEqual([
        ["capture", 0],
        ["hold", -300],
      ]);
      expect((await checkInvariants(db.db)).ok).toBe(true);
    } finally {
      await db.close();
    }
  }, 60_000); // two process starts and a wait past the nonce window: slower than the default 30 s under load

  it("posts a video once when it restarts after its follow-up was sent but not recorded", async () => {
    const { discord, start, openHere } = await setup(300);
    const first = start();
    await waitStarted(first);
    // The follow-up takes effect, but its answer never comes back before the bot dies.
    discord.inject({
      method: "POST",
      path: /^\/webhooks\//,
      processFirst: true,
      delayMs: 30_000,
      status: 500,
      count: 1,
    });
    const { id } = await discord.sendInteraction(videoText(discord, "A lantern on the water"));
    const posted = await discord.waitFor(() => videoMessage(discord, id), 30_000);
    const second = await restart(first, start);
    // The second life finds the follow-up in the channel, points the reply to it and completes the job.
    const pointer = await discord.waitFor(() => {
      const m = discord.interactionState(id)?.original;
      return m?.content.includes(posted.id) ? m : undefined;
    }, 30_000);
    expect(pointer.embeds).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    second.kill("SIGTERM");
    await second.exited;
    expect(discord.interactionState(id)!.followUps).toHaveLength(1);
    expect(posted.pings).toEqual({ everyone: false, users: [USER_ID], roles: [] });
    expect(uploads(discord)).toHaveLength(1);

    const db = await openHere();
    try {
      const { job } = await ledger(db, id);
      expect(job.state).toBe("completed");
      expect(job.videoMessageId).toBe(posted.id);
      expect((await checkInvariants(db.db)).ok).toBe(true);
    } finally {
      await db.close();
    }
  }, 60_000);

  it("takes over a killed process's job within seconds, not after its lease (JOB_LEASE_MS 120 s)", {
    timeout: 90_000,
  }, async () => {
    const { discord, sim, start } = await setup(1_000, {}, { JOB_LEASE_MS: "120000" });
    const first = start();
    await waitStarted(first);
    const { id } = await discord.sendInteraction(videoText(discord, "A comet over the sea"));
    await discord.waitFor(
      () => JSON.stringify(discord.interactionState(id)?.original?.embeds ?? "").includes("generating"),
      20_000,
    );
    // The next status check hangs: the process is killed in the middle of a step, holding the job's lease.
    sim.inject({ route: "status", kind: "hang", times: 1 });
    await new Promise<void>((resolve) => {
      const check = () => (sim.requests.some((r) => r.fault === "hang") ? resolve() : setTimeout(check, 20));
      check();
    });
    const second = await restart(first, start);
    const startedAt = Date.now();
    await waitForVideo(discord, id, { timeoutMs: 30_000 });
    const recoveryMs = Date.now() - startedAt;
    console.log(
      `recovery after SIGKILL on ${driver}: ${recoveryMs} ms from the new process's start to the video`,
    );
    expect(recoveryMs).toBeLessThan(10_000);
    second.kill("SIGTERM");
    await second.exited;
  });
});
