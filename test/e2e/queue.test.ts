import { eq, inArray } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { jobs } from "../../src/db/schema.js";
import { checkInvariants, ensureGuild } from "../../src/ledger/index.js";
import { updateSettings } from "../../src/moderation/store.js";
import { testDrivers } from "../helpers/db.js";
import { CHANNEL_ID, GUILD_ID, type Stack, startStack, USER_ID } from "./harness.js";

/**
 * The queue in front of the API account, through the real bot: at most KLING_MAX_IN_FLIGHT tasks at once,
 * servers served in turn, refusals put back in the queue, a waiting member shown their place.
 */
const OTHER_GUILD = "900000000000000701";
const OTHER_CHANNEL = "900000000000000702";
const CAP = 2;

describe.each(testDrivers())("the queue in front of the API on %s", (driver) => {
  let stack: Stack;
  /** Task run time per prompt marker: `[long]` tasks run until the test ends them. */
  beforeAll(async () => {
    stack = await startStack({
      driver,
      env: { KLING_MAX_IN_FLIGHT: String(CAP), PROGRESS_INTERVAL_MS: "300" },
      sim: {
        outcome: (b) =>
          String(b.prompt).includes("[long]") ? { status: "SUCCESS", durationMs: 3_600_000 } : undefined,
      },
    });
    await stack.discord.addGuild({ id: OTHER_GUILD, channels: [{ id: OTHER_CHANNEL }] });
    await ensureGuild(stack.database.db, OTHER_GUILD, 100_000);
    await updateSettings(stack.database.db, OTHER_GUILD, () => ({ memberJobs: 100, serverJobs: 100 }), 0);
  });
  afterAll(async () => {
    await stack?.close();
  });
  afterEach(async () => {
    stack.sim.clearFaults();
    // End every task still running (and those the queue sends meanwhile), so the next test starts clean.
    await until(async () => {
      for (const task of runningAtApi()) stack.sim.finish(task.id);
      return (await active()).length === 0;
    }, 20_000);
    expect((await checkInvariants(stack.database.db)).problems).toEqual([]);
  });

  const db = () => stack.database.db;

  function send(prompt: string, guild = GUILD_ID, user = USER_ID) {
    return stack.discord.sendInteraction(
      stack.discord.chatInput({
        name: "video",
        subcommand: "text",
        options: { prompt },
        userId: user,
        guildId: guild,
        channelId: guild === GUILD_ID ? CHANNEL_ID : OTHER_CHANNEL,
      }),
    );
  }

  async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    const attempt = async () => {
      try {
        return await check();
      } catch (err) {
        last = err;
        return false;
      }
    };
    while (!(await attempt())) {
      if (Date.now() > deadline) throw new Error("condition not met in time", { cause: last });
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function jobOf(interactionId: string) {
    const [job] = await db().select().from(jobs).where(eq(jobs.interactionId, interactionId));
    if (!job) {
      const answer = stack.discord.interactionState(interactionId);
      throw new Error(`no job for ${interactionId}: ${JSON.stringify(answer?.original ?? answer)}`);
    }
    return job;
  }

  const active = () =>
    db()
      .select()
      .from(jobs)
      .where(inArray(jobs.state, ["pending", "submitting", "running", "delivering"]));

  /** Tasks the simulator is running now (made and not yet ended). */
  const runningAtApi = () => [...stack.sim.tasks.values()].filter((t) => t.doneAt > Date.now());

  it("never runs more than KLING_MAX_IN_FLIGHT tasks, and sends the rest as places free", async () => {
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await send(`Queue cap ${i} [long]`));
    await until(() => runningAtApi().length === CAP);
    // Long enough for a poller that ignored the cap to have sent them all.
    await new Promise((r) => setTimeout(r, 800));
    expect(runningAtApi()).toHaveLength(CAP);
    const states = await Promise.all(sent.map(async (s) => (await jobOf(s.id)).state));
    expect(states.filter((s) => s === "running")).toHaveLength(CAP);
    expect(states.filter((s) => s === "pending")).toHaveLength(5 - CAP);

    // The waiting members see their place, and it moves. (Requests sent at once are accepted in any order:
    // the queue's order is the order of acceptance, read from the database.)
    const waitingIds = (await active())
      .filter((j) => j.state === "pending")
      .sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime() || x.id - y.id)
      .map((j) => j.interactionId);
    const placeShown = (interactionId: string) => {
      const text = JSON.stringify(stack.discord.interactionState(interactionId)?.original?.embeds ?? []);
      return /place \*\*(\d+)\*\* in the queue/.exec(text)?.[1];
    };
    await until(() => placeShown(waitingIds[0]!) === "1" && placeShown(waitingIds[1]!) === "2");
    // One task ends: the first waiting job takes its place, the next moves up.
    stack.sim.finish(runningAtApi()[0]!.id);
    await until(async () => (await jobOf(waitingIds[0]!)).state === "running");
    await until(() => placeShown(waitingIds[1]!) === "1");
    expect(runningAtApi()).toHaveLength(CAP);
  });

  it("serves servers in turn: one server's many jobs do not hold back another's one", async () => {
    const busy = [];
    for (let i = 0; i < 6; i++) busy.push(await send(`Busy server ${i} [long]`));
    await until(() => runningAtApi().length === CAP);
    const single = await send("Quiet server [long]", OTHER_GUILD);
    await until(async () => (await jobOf(single.id)).state === "pending");
    // The next free place goes to the quiet server, although the busy one asked first.
    stack.sim.finish(runningAtApi()[0]!.id);
    await until(async () => (await jobOf(single.id)).state === "running");
    const waitingBusy = await Promise.all(busy.map(async (b) => (await jobOf(b.id)).state));
    expect(waitingBusy.filter((s) => s === "pending")).toHaveLength(6 - CAP);
  });

  it("puts a job refused with 429 or the API's 500 back in the queue, and sends it once the API takes it", async () => {
    stack.sim.inject({ route: "generate", kind: "error", status: 429, times: 2 });
    stack.sim.inject({ route: "generate", kind: "error", status: 500, times: 1 });
    const before = stack.sim.tasks.size;
    const { id } = await send("Refused at first");
    await until(async () => (await jobOf(id)).state === "completed", 30_000);
    const job = await jobOf(id);
    expect(job.errorCode).toBeNull();
    expect(stack.sim.tasks.size - before).toBe(1);
    expect(stack.sim.requests.filter((r) => r.path === "/api/generate").length).toBeGreaterThanOrEqual(4);
  });
});

describe.each(testDrivers())("a stop during a burst on %s", (driver) => {
  let stack: Stack;
  beforeAll(async () => {
    // Two submits a second: most of the burst waits for a rate-limit token when the bot stops.
    stack = await startStack({ driver, env: { KLING_RATE_LIMIT_PER_SEC: "2", KLING_MAX_IN_FLIGHT: "50" } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("leaves the jobs that were not sent queued, and the next start sends them", async () => {
    const db = stack.database.db;
    const sent = [];
    for (let i = 0; i < 12; i++) {
      sent.push(
        await stack.discord.sendInteraction(
          stack.discord.chatInput({
            name: "video",
            subcommand: "text",
            options: { prompt: `Burst ${i}` },
            userId: USER_ID,
            guildId: GUILD_ID,
            channelId: CHANNEL_ID,
          }),
        ),
      );
    }
    const ids = sent.map((s) => s.id);
    const states = async () =>
      (await db.select().from(jobs).where(inArray(jobs.interactionId, ids))).map((j) => j.state);
    const deadline = Date.now() + 15_000;
    while (!(await states()).some((s) => s !== "pending")) {
      if (Date.now() > deadline) throw new Error("nothing was sent");
      await new Promise((r) => setTimeout(r, 20));
    }
    await stack.stopBot();
    const afterStop = await states();
    expect(afterStop).toHaveLength(12);
    expect(afterStop).not.toContain("submitting");
    expect(afterStop).not.toContain("failed");
    expect(afterStop.filter((s) => s === "pending").length).toBeGreaterThanOrEqual(6);

    await stack.startAgain();
    const end = Date.now() + 30_000;
    while ((await states()).some((s) => s !== "completed")) {
      if (Date.now() > end) throw new Error(`not all completed: ${(await states()).join(",")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const finished = await db.select().from(jobs).where(inArray(jobs.interactionId, ids));
    expect(finished.map((j) => j.errorCode)).toEqual(Array(12).fill(null));
    expect(stack.sim.requests.filter((r) => r.path === "/api/generate")).toHaveLength(12);
    expect((await checkInvariants(db)).problems).toEqual([]);
  });
});
