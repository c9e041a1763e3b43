import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { creditLedger, jobs } from "../../src/db/schema.js";
import { checkInvariants, ensureGuild, getBalance } from "../../src/ledger/index.js";
import type { OptionValue } from "../fakes/discord/index.js";
import { testDrivers } from "../helpers/db.js";
import { GUILD_ID, type Stack, startStack, messageText as text, waitForVideo } from "./harness.js";

/**
 * The moderated quota through the real discord.js client: who may do what, the server's rules on every
 * request (refused privately, nothing held or sent), approvals by managers, cancel, and one server never
 * touching another's budget.
 */

const GUILD = "900000000000000601";
const GENERAL = "900000000000000602";
const MODS = "900000000000000603";
const OTHER = "900000000000000604";
const OPERATOR = "900000000000000700";
const MANAGER = "900000000000000701";
const MEMBER = "900000000000000702";
const MEMBER2 = "900000000000000703";
const ARTISTS = "900000000000000710";
const MANAGE_GUILD = "32";
const STARTING = 100_000;

describe.each(testDrivers())("the moderated quota on %s", (driver) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      driver,
      env: { BOT_OWNER_IDS: OPERATOR },
      sim: {
        outcome: (b) =>
          String(b.prompt).includes("[slow]") ? { status: "SUCCESS", durationMs: 60_000 } : undefined,
      },
    });
    await stack.discord.addGuild({
      id: GUILD,
      channels: [{ id: GENERAL }, { id: MODS }, { id: OTHER }],
      roles: [{ id: ARTISTS, name: "artists" }],
    });
    await ensureGuild(stack.database.db, GUILD, STARTING);
  });
  afterAll(async () => {
    await stack?.close();
  });
  afterEach(async () => {
    expect((await checkInvariants(stack.database.db)).problems).toEqual([]);
  });

  const db = () => stack.database.db;
  const generates = () => stack.sim.requests.filter((r) => r.path === "/api/generate").length;

  interface Send {
    user?: string;
    channel?: string;
    guild?: string;
    manager?: boolean;
    roles?: string[];
    locale?: string;
  }

  async function command(
    name: string,
    subcommand: string,
    options: Record<string, OptionValue> = {},
    as: Send = {},
    group?: string,
  ) {
    return stack.discord.sendInteraction(
      stack.discord.chatInput({
        name,
        subcommand,
        ...(group ? { group } : {}),
        options,
        userId: as.user ?? MEMBER,
        guildId: as.guild ?? GUILD,
        channelId: as.channel ?? GENERAL,
        ...(as.manager ? { memberPermissions: MANAGE_GUILD } : {}),
        ...(as.roles ? { memberRoles: as.roles } : {}),
        locale: as.locale ?? "en-US",
      }),
    );
  }

  const budget = (sub: string, options: Record<string, OptionValue> = {}, as: Send = {}, group?: string) =>
    command("budget", sub, options, as, group);
  const video = (prompt: string, as: Send = {}, extra: Record<string, OptionValue> = {}) =>
    command("video", "text", { prompt, ...extra }, as);

  function answered(id: string) {
    return stack.discord.waitFor(() => {
      const st = stack.discord.interactionState(id);
      const m = st?.original;
      return m && (m.content || m.embeds.length) && !(m.flags & 128) ? { st: st!, m } : undefined;
    }, 15_000);
  }

  /** The answer is ephemeral and says `pattern`. */
  async function privately(id: string, pattern: RegExp) {
    const { st, m } = await answered(id);
    expect((st.callbackFlags ?? 0) & 64, text(m)).toBe(64);
    expect(text(m)).toMatch(pattern);
    return m;
  }

  /** A refused /video: private, names the rule, nothing held, nothing sent. */
  async function refusedVideo(
    prompt: string,
    as: Send,
    pattern: RegExp,
    extra: Record<string, OptionValue> = {},
  ) {
    const before = await getBalance(db(), GUILD);
    const sent = generates();
    const { id } = await video(prompt, as, extra);
    await privately(id, pattern);
    expect(await getBalance(db(), GUILD)).toBe(before);
    expect(generates()).toBe(sent);
    const [job] = await db().select().from(jobs).where(eq(jobs.interactionId, id));
    expect(job).toBeUndefined();
  }

  it("only operators create or remove credits; managers and members are told who may", async () => {
    const { id: a } = await budget("grant", { credits: 500, reason: "gift" }, { user: MEMBER });
    await privately(a, /operators/);
    const { id: b } = await budget(
      "grant",
      { credits: 500, reason: "gift" },
      { user: MANAGER, manager: true },
    );
    await privately(b, /operators/);
    const before = await getBalance(db(), GUILD);
    const { id: c } = await budget("grant", { credits: 500, reason: "spring gift" }, { user: OPERATOR });
    await privately(c, new RegExp(`${(before + 500).toLocaleString("en-US")} credits`));
    const [row] = await db()
      .select()
      .from(creditLedger)
      .where(and(eq(creditLedger.guildId, GUILD), eq(creditLedger.reason, "spring gift")));
    expect(row).toMatchObject({ kind: "grant", amount: 500, actorId: OPERATOR });
    // Removing more than there is empties the balance and says so.
    const other = "900000000000000699";
    await ensureGuild(db(), other, 0);
    const { id: d } = await budget(
      "grant",
      { credits: -50, reason: "oops", guild_id: other },
      { user: OPERATOR },
    );
    await privately(d, /0 credits/);
    expect(await getBalance(db(), other)).toBe(0);
  });

  it("only managers change the settings; approval needs a moderator channel first", async () => {
    const { id: a } = await budget("config", { daily_cap: 10 }, { user: MEMBER });
    await privately(a, /managers/);
    const { id: b } = await budget("config", { approval_above: 100 }, { user: MANAGER, manager: true });
    await privately(b, /moderator channel/);
    const { id: c } = await budget("config", { member_jobs: 5 }, { user: MANAGER, manager: true });
    const saved = await privately(c, /Saved/);
    expect(text(saved)).toMatch(/Jobs in flight per member 5/);
    // A member with the manager role the server names is a manager too.
    const { id: d } = await budget("config", { manager_role: ARTISTS }, { user: MANAGER, manager: true });
    await privately(d, /Saved/);
    const { id: e } = await budget("config", { server_jobs: 40 }, { user: MEMBER2, roles: [ARTISTS] });
    await privately(e, /Saved/);
    const { id: f } = await budget("config", {}, { user: MEMBER2, roles: [ARTISTS], locale: "ja" });
    await privately(f, /予算の設定/);
  });

  it("applies every rule before holding anything, privately, naming the rule", async () => {
    const mgr = { user: MANAGER, manager: true };
    await privately((await budget("add", { channel: GENERAL }, mgr, "channels")).id, /Added/);
    await refusedVideo("A lake", { channel: OTHER }, /can't be made in this channel/);
    await privately((await budget("add", { role: ARTISTS }, mgr, "roles")).id, /Added/);
    await refusedVideo("A lake", {}, /roles/);
    const artist = { roles: [ARTISTS] };
    await privately((await budget("freeze", { member: MEMBER, reason: "spam" }, mgr)).id, /no longer spend/);
    await refusedVideo("A lake", artist, /paused.*spam/s);
    await privately(
      (await budget("unfreeze", { member: MEMBER }, mgr)).id,
      /spend this server's credits again/,
    );
    await privately((await budget("add", { phrase: "Forbidden" }, mgr, "blocklist")).id, /Added/);
    await privately((await budget("add", { phrase: "ねこ" }, mgr, "blocklist")).id, /Added/);
    await refusedVideo("a FORBIDDEN dance", artist, /Forbidden/);
    await refusedVideo("かわいいねこのダンス", artist, /ねこ/);
    // Full-width Latin letters fold to the same word.
    await refusedVideo("ｆｏｒｂｉｄｄｅｎ", artist, /Forbidden/);
    await privately(
      (await budget("config", { allowed_models: "std,o3-std", max_duration: 5, allow_sound: false }, mgr)).id,
      /Saved/,
    );
    await refusedVideo("A lake", artist, /doesn't allow the model/, { model: "pro" });
    await refusedVideo("A lake", artist, /at most 5 seconds/, { duration: 10 });
    await refusedVideo("A lake", artist, /sound/, { sound: true });
    // Whole words only for Latin scripts: "unforbiddenly" is fine; sound is off by default here.
    const { id } = await video("an unforbiddenly calm lake", artist);
    const { st, m } = await answered(id);
    expect((st.callbackFlags ?? 0) & 64, text(m)).toBe(0);
    const [job] = await db().select().from(jobs).where(eq(jobs.interactionId, id));
    expect(job?.request).toMatchObject({ generate: { sound: false } });
    // Back to defaults for the next tests.
    await privately((await budget("remove", { channel: GENERAL }, mgr, "channels")).id, /Removed/);
    await privately((await budget("remove", { role: ARTISTS }, mgr, "roles")).id, /Removed/);
    await privately((await budget("config", { allowed_models: "all", allow_sound: true }, mgr)).id, /Saved/);
  });

  it("holds exactly the daily cap's worth under 20 simultaneous requests of one member", async () => {
    const mgr = { user: MANAGER, manager: true };
    // std, 5 s, sound on: 300 credits a job; the cap allows three.
    await privately(
      (await budget("config", { daily_cap: 900, member_jobs: 30, server_jobs: 100 }, mgr)).id,
      /Saved/,
    );
    const user = "900000000000000750";
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => video(`A quick sketch [slow] ${i}`, { user }).then((r) => r.id)),
    );
    // A refusal is private: answered directly, ephemeral; deferred first (a burst), the public "thinking…" is
    // replaced, the refusal comes as an ephemeral follow-up, and the public reply is removed.
    const outcomes = await Promise.all(
      ids.map((id) =>
        stack.discord.waitFor(() => {
          const st = stack.discord.interactionState(id);
          const o = st?.original;
          if (!st || !o || o.flags & 128) return undefined;
          if (/today/.test(text(o))) return { st, refusal: o };
          const followUp = st.followUps.find((f) => /today/.test(text(f)));
          if (followUp && o.deleted) return { st, refusal: followUp };
          return /queued|Queued|#\d/.test(text(o)) && !/Answered privately/.test(text(o))
            ? { st }
            : undefined;
        }, 15_000),
      ),
    );
    const refused = outcomes.filter((r) => r.refusal);
    expect(refused).toHaveLength(17);
    let deferredFirst = 0;
    for (const r of refused) {
      expect(r.refusal!.ephemeral, text(r.refusal!)).toBe(true);
      if (r.st.callbackType === 5) deferredFirst++;
      else expect((r.st.callbackFlags ?? 0) & 64).toBe(64);
    }
    // Twenty at once is a burst: most are deferred before their checks.
    expect(deferredFirst).toBeGreaterThan(0);
    const held = await db()
      .select()
      .from(jobs)
      .where(and(eq(jobs.guildId, GUILD), eq(jobs.userId, user)));
    expect(held).toHaveLength(3);
    await privately((await budget("config", { daily_cap: 0 }, mgr)).id, /Saved/);
  });

  it("asks a manager when a job costs more than the server allows, and decides once", async () => {
    const mgr = { user: MANAGER, manager: true, channel: MODS };
    await privately(
      (await budget("config", { moderator_channel: MODS, approval_above: 100 }, mgr)).id,
      /Saved/,
    );
    const before = await getBalance(db(), GUILD);
    const sent = generates();
    const { id } = await video("A cathedral at night", { user: MEMBER2 });
    const waiting = await answered(id);
    expect(text(waiting.m)).toMatch(/waiting for approval/);
    expect(await getBalance(db(), GUILD)).toBe(before - 300);
    const [job] = await db().select().from(jobs).where(eq(jobs.interactionId, id));
    const request = await stack.discord.waitFor(() =>
      stack.discord.channelMessages(MODS).find((m) => JSON.stringify(m.embeds).includes(`#${job!.id}`)),
    );
    expect(request.allowed_mentions).toEqual({ parse: [], users: [] });
    const approve = (user: string, manager: boolean, guildId = GUILD) =>
      stack.discord.sendInteraction(
        stack.discord.component({
          customId: `kb1:approve:${job!.id}`,
          message: stack.discord.apiMessage(request),
          userId: user,
          guildId,
          channelId: guildId === GUILD ? MODS : undefined,
          ...(manager ? { memberPermissions: MANAGE_GUILD } : {}),
        }),
      );
    // A member, or a manager of another server, changes nothing.
    await privately((await approve(MEMBER, false)).id, /managers/);
    await privately((await approve(MANAGER, true, GUILD_ID)).id, /another server/);
    expect(generates()).toBe(sent);
    // Two managers click at once: one decision.
    const [x, y] = await Promise.all([approve(MANAGER, true), approve(OPERATOR, true)]);
    const results = await Promise.all(
      [x, y].map((r) =>
        stack.discord.waitFor(() => {
          const st = stack.discord.interactionState(r.id);
          return st?.callbackType ? st : undefined;
        }),
      ),
    );
    expect(results.map((r) => r.callbackType).sort()).toEqual([4, 7]);
    const done = await waitForVideo(stack.discord, id);
    expect(done.attachments).toHaveLength(1);
    expect(generates()).toBe(sent + 1);
    expect(JSON.stringify(stack.discord.message(request.id)?.embeds)).toMatch(/Approved by/);
  });

  it("denies with a reason through a modal, returning the credits once", async () => {
    const before = await getBalance(db(), GUILD);
    const { id } = await video("A volcano", { user: MEMBER2 });
    await answered(id);
    const [job] = await db().select().from(jobs).where(eq(jobs.interactionId, id));
    const request = await stack.discord.waitFor(() =>
      stack.discord.channelMessages(MODS).find((m) => JSON.stringify(m.embeds).includes(`#${job!.id}`)),
    );
    const click = await stack.discord.sendInteraction(
      stack.discord.component({
        customId: `kb1:deny:${job!.id}`,
        message: stack.discord.apiMessage(request),
        userId: MANAGER,
        guildId: GUILD,
        channelId: MODS,
        memberPermissions: MANAGE_GUILD,
      }),
    );
    await stack.discord.waitFor(
      () => stack.discord.interactionState(click.id)?.callbackType === 9 || undefined,
    );
    const submit = () =>
      stack.discord.sendInteraction(
        stack.discord.modalSubmit({
          customId: `kb1:deny:${job!.id}`,
          fields: { reason: "too dark" },
          message: stack.discord.apiMessage(request),
          userId: MANAGER,
          guildId: GUILD,
          channelId: MODS,
          memberPermissions: MANAGE_GUILD,
        }),
      );
    const [a, b] = await Promise.all([submit(), submit()]);
    await stack.discord.waitFor(() => {
      const types = [a, b].map((r) => stack.discord.interactionState(r.id)?.callbackType);
      return types.every(Boolean) || undefined;
    });
    const reply = await stack.discord.waitFor(() => {
      const m = stack.discord.interactionState(id)?.original;
      return m && JSON.stringify(m.embeds).includes("too dark") ? m : undefined;
    });
    expect(text(reply)).toMatch(/did not approve/);
    expect(await getBalance(db(), GUILD)).toBe(before);
    const rows = await db().select().from(creditLedger).where(eq(creditLedger.jobId, job!.id));
    expect(rows.map((r) => r.kind).sort()).toEqual(["hold", "release"]);
  });

  it("cancels a job not yet sent, once, by its requester; not by another member", async () => {
    const before = await getBalance(db(), GUILD);
    const { id } = await video("A lighthouse", { user: MEMBER2 });
    await answered(id);
    const [job] = await db().select().from(jobs).where(eq(jobs.interactionId, id));
    await privately(
      (await command("video", "cancel", { job: job!.id }, { user: MEMBER })).id,
      /Only the member who asked/,
    );
    await privately((await command("video", "cancel", { job: job!.id }, { user: MEMBER2 })).id, /cancelled/);
    await privately(
      (await command("video", "cancel", { job: job!.id }, { user: MEMBER2 })).id,
      /already ended/,
    );
    expect(await getBalance(db(), GUILD)).toBe(before);
    await privately(
      (await budget("config", { approval_above: 0 }, { user: MANAGER, manager: true })).id,
      /Saved/,
    );
  });

  it("shows a member where they stand", async () => {
    const { id } = await budget("show", {}, { user: MEMBER2 });
    const m = (await answered(id)).m;
    expect(text(m)).toMatch(/Your spending today/);
    expect(text(m)).toMatch(/Your job slots free/);
  });
});
