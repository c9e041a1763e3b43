import { Writable } from "node:stream";
import { REST } from "discord.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { createOperatorNotifier, type OperatorNotifierOptions } from "../../src/operators/notifier.js";
import { type FakeDiscord, startFakeDiscord } from "../fakes/discord/index.js";

/** The operators' notices against the fake Discord, through discord.js's REST client. */

const GUILD = "930000000000000001";
const OPS_CHANNEL = "930000000000000002";
const OWNER_A = "930000000000000011";
const OWNER_B = "930000000000000012";
const HOUR = 3_600_000;

let fake: FakeDiscord;
let rest: REST;

beforeAll(async () => {
  fake = await startFakeDiscord({
    guilds: [{ id: GUILD, name: "Operators", channels: [{ id: OPS_CHANNEL, name: "ops" }] }],
  });
  rest = new REST({ api: fake.apiUrl, retries: 0 }).setToken(fake.token);
});
afterEach(() => {
  fake.clearFaults();
});
afterAll(async () => {
  await fake?.close();
});

/** A notifier with a clock the test moves, and its log records. */
function setup(options: Partial<OperatorNotifierOptions> = {}) {
  const logs: { level: number; msg: string; [k: string]: unknown }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  let clock = Date.parse("2026-12-01T09:00:00Z");
  const notifier = createOperatorNotifier({
    rest,
    ownerIds: [OWNER_A, OWNER_B],
    logger: createLogger({ level: "debug", destination }),
    now: () => new Date(clock),
    ...options,
  });
  const since = fake.mark();
  return {
    notifier,
    logs,
    warnings: () => logs.filter((l) => l.level === 40),
    advance: (ms: number) => {
      clock += ms;
    },
    /** Messages the notifier posted since setup, in order. */
    posts: () =>
      fake.requests
        .slice(since)
        .filter((r) => r.method === "POST" && /^\/channels\/\d+\/messages$/.test(r.path) && r.status === 200),
    opens: () =>
      fake.requests.slice(since).filter((r) => r.method === "POST" && r.path === "/users/@me/channels"),
  };
}

/** The DM channel the fake keeps for a user (the same one the notifier opened). */
async function dmChannelOf(userId: string): Promise<string> {
  const channel = (await rest.post("/users/@me/channels", { body: { recipient_id: userId } })) as {
    id: string;
  };
  return channel.id;
}

describe("operator notices", () => {
  it("DMs each owner once per incident, however often and however concurrently it is reported, with no pings", async () => {
    const s = setup();
    const incident = {
      key: "kling:insufficient_credits",
      text: "The video API account is out of credits. @everyone",
    };
    await Promise.all([s.notifier.notify(incident), s.notifier.notify(incident)]);
    await s.notifier.notify(incident);
    s.advance(HOUR);
    await s.notifier.notify(incident);

    expect(
      s
        .opens()
        .map((r) => (r.body as { recipient_id: string }).recipient_id)
        .sort(),
    ).toEqual([OWNER_A, OWNER_B]);
    expect(s.posts()).toHaveLength(2);
    for (const owner of [OWNER_A, OWNER_B]) {
      const [message, ...more] = fake.channelMessages(await dmChannelOf(owner));
      expect(more).toEqual([]);
      expect(message?.content).toBe(incident.text);
      expect(message?.allowed_mentions).toEqual({ parse: [] });
      expect(message?.pings).toEqual({ everyone: false, users: [], roles: [] });
    }
    expect(s.warnings()).toEqual([]);
  });

  it("tells of a key again after resolve, or after six quiet hours, and keeps keys apart", async () => {
    const s = setup({ ownerIds: [OWNER_A] });
    const key = "kling:api_key_refused";
    await s.notifier.notify({ key, text: "first" });
    await s.notifier.notify({ key: "kling:charged_failures", text: "another matter" });
    s.notifier.resolve(key);
    await s.notifier.notify({ key, text: "second" });
    // Reports every five hours keep it one incident, however long it lasts.
    for (let i = 0; i < 4; i++) {
      s.advance(5 * HOUR);
      await s.notifier.notify({ key, text: "still" });
    }
    s.advance(6 * HOUR);
    await s.notifier.notify({ key, text: "third" });
    expect(s.posts().map((r) => (r.body as { content: string }).content)).toEqual([
      "first",
      "another matter",
      "second",
      "third",
    ]);
    // One DM channel, opened once.
    expect(s.opens()).toHaveLength(1);
  });

  it("posts in the operators' channel instead, when one is set", async () => {
    const s = setup({ channelId: OPS_CHANNEL });
    await s.notifier.notify({ key: "k", text: "in the channel" });
    await s.notifier.notify({ key: "k", text: "in the channel" });
    expect(s.opens()).toEqual([]);
    expect(s.posts().map((r) => [r.path, r.body])).toEqual([
      [`/channels/${OPS_CHANNEL}/messages`, { content: "in the channel", allowed_mentions: { parse: [] } }],
    ]);
  });

  it("logs a failed DM at warn, never throws, and does not repeat what another owner received", async () => {
    const s = setup();
    const closed = await dmChannelOf(OWNER_A);
    fake.inject({ method: "POST", path: `/channels/${closed}/messages`, status: 403, code: 50007 });
    await expect(s.notifier.notify({ key: "k", text: "hello" })).resolves.toBeUndefined();
    expect(s.warnings().map((w) => [w.msg, w.ownerId])).toEqual([
      ["could not send an operator notice by DM", OWNER_A],
    ]);
    expect(fake.channelMessages(await dmChannelOf(OWNER_B)).map((m) => m.content)).toContain("hello");
    await s.notifier.notify({ key: "k", text: "hello" });
    expect(s.posts()).toHaveLength(1);
  });

  it("when nobody could be told, tries again at a later report, five minutes on", async () => {
    const s = setup({ channelId: OPS_CHANNEL });
    const fault = fake.inject({
      method: "POST",
      path: `/channels/${OPS_CHANNEL}/messages`,
      status: 403,
      count: 10,
    });
    await s.notifier.notify({ key: "k", text: "the API key was refused" });
    s.advance(60_000);
    await s.notifier.notify({ key: "k", text: "the API key was refused" });
    expect(fault.hits).toBe(1);
    expect(s.warnings().map((w) => w.msg)).toEqual([
      "could not post an operator notice in the operators' channel",
      "no operator could be told; the next report of this incident tries again",
    ]);
    fault.clear();
    s.advance(5 * 60_000);
    await s.notifier.notify({ key: "k", text: "the API key was refused" });
    expect(s.posts().map((r) => (r.body as { content: string }).content)).toEqual([
      "the API key was refused",
    ]);
  });

  it("with nobody to tell, says so in the log once per incident", async () => {
    const s = setup({ ownerIds: [] });
    await s.notifier.notify({ key: "k", text: "nobody hears this" });
    await s.notifier.notify({ key: "k", text: "nobody hears this" });
    expect(s.opens()).toEqual([]);
    expect(s.posts()).toEqual([]);
    expect(s.warnings()).toMatchObject([{ key: "k", text: "nobody hears this" }]);
  });

  it("cuts a text to Discord's 2,000 characters", async () => {
    const s = setup({ channelId: OPS_CHANNEL });
    await s.notifier.notify({ key: "long", text: "x".repeat(2_500) });
    const content = (s.posts()[0]!.body as { content: string }).content;
    expect(content).toHaveLength(2_000);
    expect(content.endsWith("x…")).toBe(true);
  });
});
