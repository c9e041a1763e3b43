import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { creditLedger, jobs } from "../../src/db/schema.js";
import { SAMPLE_MP4 } from "../../src/kling-sim/sample-video.js";
import type { TaskOutcome } from "../../src/kling-sim/server.js";
import { checkInvariants, ensureGuild, getBalance } from "../../src/ledger/index.js";
import type { FakeMessage } from "../fakes/discord/index.js";
import { testDrivers } from "../helpers/db.js";
import { type LoopbackServer, startRewritingProxy, startVideoHost, trickle } from "../helpers/hostile.js";
import { GUILD_ID, type Stack, startStack, videoText } from "./harness.js";

/**
 * The bot against an API and a video host that misbehave: result links that fail, point inside the network,
 * serve a web page or trickle; an API that fails after creating the task; a success without a video.
 * Every case ends in a clear state for its job, with the ledger exact and the process alive.
 */

const STARTING = 100_000;

describe.each(testDrivers())("a hostile API and video host on %s", (driver) => {
  let stack: Stack;
  /** The video host the operator trusts (named in TRUSTED_VIDEO_ORIGINS), answering per path. */
  let trusted: LoopbackServer;
  /** A host inside the network that nobody named: the bot must never reach it. */
  let internal: LoopbackServer;
  let proxy: LoopbackServer;
  let outcome: ((prompt: string) => TaskOutcome | undefined) | undefined;
  let rewriteGenerate: ((body: string) => { status: number; body: string } | undefined) | undefined;

  beforeAll(async () => {
    trusted = await startVideoHost((req, res) => {
      const path = req.url ?? "/";
      const status = /^\/status\/(\d+)/.exec(path);
      if (status) {
        res.writeHead(Number(status[1]));
        return void res.end("gone");
      }
      if (path.startsWith("/html")) {
        res.writeHead(200, { "content-type": "video/mp4" });
        return void res.end("<!doctype html><title>login</title>");
      }
      if (path.startsWith("/trickle")) return trickle(res, SAMPLE_MP4.subarray(0, 64), 100);
      if (path.startsWith("/to-internal")) {
        res.writeHead(302, { location: `${internal.url}/secret` });
        return void res.end();
      }
      res.writeHead(200, { "content-type": "video/mp4" });
      res.end(SAMPLE_MP4);
    });
    internal = await startVideoHost((_req, res) => {
      res.writeHead(200, { "content-type": "video/mp4" });
      res.end(SAMPLE_MP4);
    });
    stack = await startStack({
      driver,
      sim: {
        outcome: (body) => outcome?.(String(body.prompt)),
      },
      apiUrl: async (sim) => {
        proxy = await startRewritingProxy(sim.url, (req, answer) => {
          const replaced = req.path === "/api/generate" ? rewriteGenerate?.(answer.body) : undefined;
          return replaced ? { ...answer, ...replaced } : undefined;
        });
        return proxy.url;
      },
      env: {
        // The operator's video host; the simulator's own origin is trusted as well (see the harness).
        TRUSTED_VIDEO_ORIGINS: trusted.url,
        JOB_TIMEOUT_MS: "60000",
        POLL_CONCURRENCY: "1",
        DELIVERY_CONCURRENCY: "1",
        DOWNLOAD_TIMEOUT_MS: "60000",
        DOWNLOAD_MIN_BYTES_PER_SEC: "0",
      },
    });
    await ensureGuild(stack.database.db, GUILD_ID, STARTING);
  });
  afterAll(async () => {
    await stack?.close();
    await proxy?.close();
    await trusted?.close();
    await internal?.close();
  });
  afterEach(async () => {
    outcome = undefined;
    rewriteGenerate = undefined;
    expect((await checkInvariants(stack.database.db)).problems).toEqual([]);
  });

  const db = () => stack.database.db;

  const send = (prompt: string) => stack.discord.sendInteraction(videoText(stack.discord, prompt));

  async function settled(interactionId: string, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [job] = await db().select().from(jobs).where(eq(jobs.interactionId, interactionId));
      if (job && (job.state === "completed" || job.state === "failed")) return job;
      if (Date.now() > deadline) throw new Error(`job of ${interactionId} still ${job?.state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error("condition not met in time");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function movements(jobId: number) {
    const rows = await db().select().from(creditLedger).where(eq(creditLedger.jobId, jobId));
    return rows.map((r) => r.kind).sort();
  }

  function finalReply(id: string): FakeMessage {
    return stack.discord.interactionState(id)!.original!;
  }

  /** A result link for this prompt only. */
  function resultFor(marker: string, response: string[]) {
    outcome = (prompt) => (prompt.includes(marker) ? { status: "SUCCESS", response } : undefined);
  }

  it.each([404, 403, 500])(
    "a result link answering HTTP %i fails the job with a clear reply and returns the credits",
    async (code) => {
      const before = await getBalance(db(), GUILD_ID);
      const seen = trusted.seen.length;
      resultFor(`http-${code}`, [`${trusted.url}/status/${code}`]);
      const { id } = await send(`A lost video http-${code}`);
      const job = await settled(id);
      expect(job.state).toBe("failed");
      expect(job.errorCode).toBe("VIDEO_UNAVAILABLE");
      expect(job.errorParams).toMatchObject({ why: "http-status", httpStatus: code });
      expect(await movements(job.id)).toEqual(["hold", "release"]);
      expect(await getBalance(db(), GUILD_ID)).toBe(before);
      // Tried a few times before giving up.
      expect(trusted.seen.length - seen).toBe(3);
      const text = JSON.stringify(finalReply(id).embeds);
      expect(text).toContain(`HTTP ${code}`);
      expect(text).toContain("could not fetch it");
      expect(text).toContain("returned");
      // The process is alive and still makes videos.
      const ok = await send("A video after the failure");
      expect((await settled(ok.id)).state).toBe("completed");
    },
  );

  it("never fetches a result link on an internal address, directly or through a redirect", async () => {
    const before = await getBalance(db(), GUILD_ID);
    for (const [marker, url] of [
      ["loopback-http", `${internal.url}/v.mp4`],
      ["loopback-https", `https://127.0.0.1:${internal.port}/v.mp4`],
      ["metadata", "https://169.254.169.254/latest/meta-data/iam"],
      ["private", "https://10.0.0.7/v.mp4"],
      ["redirect", `${trusted.url}/to-internal`],
    ] as const) {
      resultFor(marker, [url]);
      const { id } = await send(`An internal link ${marker}`);
      const job = await settled(id);
      expect(job.state, marker).toBe("failed");
      expect(job.errorCode).toBe("VIDEO_UNAVAILABLE");
      expect(finalReply(id).attachments).toHaveLength(0);
    }
    expect(internal.seen).toEqual([]);
    expect(await getBalance(db(), GUILD_ID)).toBe(before);
  });

  it("refuses a web page served as the video", async () => {
    resultFor("html", [`${trusted.url}/html`]);
    const { id } = await send("A page html");
    const job = await settled(id);
    expect(job.state).toBe("failed");
    expect(job.errorParams).toMatchObject({ why: "not-a-video" });
    expect(JSON.stringify(finalReply(id).embeds)).toContain("not a video");
    expect(finalReply(id).attachments).toHaveLength(0);
  });

  it.each([
    ["empty", []],
    ["blank", [""]],
    ["not-a-url", ["not a url"]],
    ["file", ["file:///etc/passwd"]],
    ["javascript", ["javascript:alert(1)"]],
  ])("ends a success whose response is %s at once, with the credits returned", async (label, response) => {
    resultFor(`nourl-${label}`, response);
    const started = Date.now();
    const { id } = await send(`No video nourl-${label}`);
    const job = await settled(id);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(job.state).toBe("failed");
    expect(["NO_VIDEO_URL", "VIDEO_UNAVAILABLE"]).toContain(job.errorCode);
    expect(await movements(job.id)).toEqual(["hold", "release"]);
  });

  it("submits once when the API answers 5xx after creating the task, and says it could not confirm", async () => {
    for (const [label, answer] of [
      ["http-503", { status: 503, body: JSON.stringify({ code: 503, message: "Service Unavailable" }) }],
      ["http-502", { status: 502, body: "<html>Bad gateway</html>" }],
      ["envelope", { status: 200, body: JSON.stringify({ code: 500, message: "INTERNAL_ERROR: boom" }) }],
    ] as const) {
      rewriteGenerate = () => answer;
      const before = await getBalance(db(), GUILD_ID);
      const tasksBefore = stack.sim.tasks.size;
      const { id } = await send(`Unconfirmed ${label}`);
      const job = await settled(id);
      expect(job.state, label).toBe("failed");
      expect(job.errorCode, label).toBe("UNCONFIRMED");
      // The API made exactly one task; the bot did not send the request again.
      expect(stack.sim.tasks.size - tasksBefore, label).toBe(1);
      expect(await getBalance(db(), GUILD_ID)).toBe(before);
      expect(JSON.stringify(finalReply(id).embeds)).toContain("could not confirm");
    }
  });

  it("shows the real time waited when a job times out", async () => {
    const { bot } = stack;
    const saved = bot.services.settings.jobTimeoutMs;
    bot.services.settings.jobTimeoutMs = 1_000;
    try {
      outcome = (p) => (p.includes("slow-task") ? { status: "SUCCESS", durationMs: 60_000 } : undefined);
      const { id } = await send("A slow-task");
      const job = await settled(id);
      expect(job.errorCode).toBe("TIMED_OUT");
      expect(Number(job.errorParams?.waitedMs)).toBeGreaterThanOrEqual(1_000);
      const text = JSON.stringify(finalReply(id).embeds);
      expect(text).not.toMatch(/\b0 minutes\b/);
      expect(text).toMatch(/for \ds, longer than the 1s/);
    } finally {
      bot.services.settings.jobTimeoutMs = saved;
    }
  });

  it("keeps polling while a video host trickles, and stops at once without holding the jobs", async () => {
    resultFor("trickle", [`${trusted.url}/trickle`]);
    const slow = await send("A trickle video");
    await until(() => trusted.seen.some((r) => r.includes("/trickle")));
    // With one polling slot and the one delivery slot held by the trickle, another job is still polled.
    const other = await send("Another video meanwhile");
    await until(async () => {
      const [job] = await db().select().from(jobs).where(eq(jobs.interactionId, other.id));
      return job?.state === "delivering";
    });
    const started = Date.now();
    await stack.stopBot();
    expect(Date.now() - started).toBeLessThan(3_000);
    const held = await db().select().from(jobs).where(eq(jobs.interactionId, slow.id));
    expect(held[0]!.state).toBe("delivering");
    expect(held[0]!.leaseOwner).toBeNull();
  });
});
