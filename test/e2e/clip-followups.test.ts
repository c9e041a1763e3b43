import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Bot, startBot } from "../../src/bot.js";
import { loadConfig } from "../../src/config.js";
import { creditLedger, type Job, jobs } from "../../src/db/schema.js";
import { checkInvariants, ensureGuild, getBalance } from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import { pngSize } from "../../src/video/last-frame.js";
import type { FakeMessage } from "../fakes/discord/index.js";
import { testDrivers } from "../helpers/db.js";
import {
  CHANNEL_ID,
  GUILD_ID,
  type Stack,
  startStack,
  messageText as text,
  USER_ID,
  waitForVideo,
} from "./harness.js";

/**
 * What a finished clip leads to, through the real discord.js client against the fake Discord and the Kling
 * simulator: the buttons under a delivered video (Re-roll, Edit, Continue, Use as reference, Share), Cancel
 * on a job that waits, and "Animate with Kling" on a message. Each new job must reach the simulator with the
 * right type and fields, be held like a /video job, and be refused privately when the server's rules say no.
 */

const MEMBER = "900000000000000098";
const MANAGE_GUILD = "32";
/** A second server: its own rules (a daily cap, approvals), and the target of forged ids. */
const GUILD2 = "900000000000000801";
const CHANNEL2 = "900000000000000802";
const MODS2 = "900000000000000803";
const GALLERY = "900000000000000804";
const MEMBER2 = "900000000000000811";
const STARTING = 100_000;

describe.each(testDrivers())("a finished clip's follow-ups on %s", (driver) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ driver });
    await stack.discord.addGuild({
      id: GUILD2,
      channels: [{ id: CHANNEL2 }, { id: MODS2 }, { id: GALLERY, name: "gallery" }],
    });
    await ensureGuild(stack.database.db, GUILD_ID, STARTING);
    await ensureGuild(stack.database.db, GUILD2, STARTING);
  });
  afterAll(async () => {
    await stack?.close();
  });
  afterEach(async () => {
    stack.sim.clearFaults();
    expect((await checkInvariants(stack.database.db)).problems).toEqual([]);
  });

  const db = () => stack.database.db;
  const discord = () => stack.discord;

  interface As {
    user?: string;
    guild?: string;
    channel?: string;
    manager?: boolean;
    locale?: string;
  }
  const who = (as: As) => ({
    userId: as.user ?? USER_ID,
    guildId: as.guild ?? GUILD_ID,
    channelId: as.channel ?? (as.guild === GUILD2 ? CHANNEL2 : CHANNEL_ID),
    locale: as.locale ?? "en-US",
    ...(as.manager ? { memberPermissions: MANAGE_GUILD } : {}),
  });

  const command = (name: string, subcommand: string, options: Record<string, string | number>, as: As = {}) =>
    discord().sendInteraction(discord().chatInput({ name, subcommand, options, ...who(as) }));
  const click = (customId: string, message: FakeMessage, as: As = {}) =>
    discord().sendInteraction(
      discord().component({ customId, message: discord().apiMessage(message), ...who(as) }),
    );
  const submit = (
    customId: string,
    fields: Record<string, string>,
    message: FakeMessage | undefined,
    as: As = {},
  ) =>
    discord().sendInteraction(
      discord().modalSubmit({
        customId,
        fields,
        ...(message ? { message: discord().apiMessage(message) } : {}),
        ...who(as),
      }),
    );

  /** The interaction's answer once written (not a loading placeholder). */
  function answered(id: string, timeoutMs = 15_000) {
    return discord().waitFor(() => {
      const m = discord().interactionState(id)?.original;
      return m && (m.content || m.embeds.length) && !(m.flags & 128) ? m : undefined;
    }, timeoutMs);
  }

  /** The answer is seen by the clicker alone and says `pattern`. */
  async function privately(id: string, pattern: RegExp) {
    const m = await answered(id);
    expect(m.ephemeral, text(m)).toBe(true);
    expect(text(m)).toMatch(pattern);
    return m;
  }

  /** A manager of the second server changes its settings. */
  async function configureServer2(options: Record<string, string | number>) {
    await privately(
      (await command("budget", "config", options, { guild: GUILD2, manager: true })).id,
      /Saved/,
    );
  }

  /** The modal the interaction opened. */
  function modalOf(id: string) {
    return discord().waitFor(() => {
      const st = discord().interactionState(id);
      if (st?.callbackType === 9) return st.modal as ModalJson;
      if (st?.original && !(st.original.flags & 128))
        throw new Error(`answered instead: ${text(st.original)}`);
      return undefined;
    });
  }

  async function jobOf(interactionId: string): Promise<Job | undefined> {
    const [job] = await db().select().from(jobs).where(eq(jobs.interactionId, interactionId));
    return job;
  }

  async function settled(interactionId: string): Promise<Job> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const job = await jobOf(interactionId);
      if (job && (job.state === "completed" || job.state === "failed")) return job;
      if (Date.now() > deadline) throw new Error(`job of ${interactionId} still ${job?.state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** What the simulator was asked to make for a job. */
  function taskOf(job: Job): Record<string, unknown> {
    const task = stack.sim.tasks.get(job.klingTaskId ?? "");
    if (!task) throw new Error(`job ${job.id} reached no task`);
    return task.request;
  }

  /** A clip made with `/video text` and delivered, with the message that carries it (and its buttons). */
  async function clip(prompt: string, options: Record<string, string | number> = {}, as: As = {}) {
    const { id } = await command("video", "text", { prompt, ...options }, as);
    const job = await settled(id);
    expect(job.state).toBe("completed");
    const message = await waitForVideo(discord(), id);
    expect(message.components.length).toBeGreaterThan(0);
    return { job, message };
  }

  /** The message names `job` by its number: in an embed's title, or in the one line that points to its video. */
  const names = (job: Job) => (m: FakeMessage) => new RegExp(`#${job.number}(?!\\d)`).test(text(m));

  /** The bot's post in `channel` replying to `messageId` that names `job`. */
  function replyOf(channel: string, messageId: string, job: Job) {
    return discord().waitFor(() =>
      discord()
        .channelMessages(channel)
        .find((m) => m.message_reference?.message_id === messageId && names(job)(m)),
    );
  }

  /**
   * The message that carries the video of a job made from a button or a message: a new post in `channel`,
   * a reply to the job's own message (`jobMessage`), naming the job and mentioning its requester; the only
   * one of the job that carries a file.
   */
  async function videoOf(channel: string, jobMessage: FakeMessage, job: Job) {
    const video = await discord().waitFor(() =>
      discord()
        .channelMessages(channel)
        .find(
          (m) =>
            m.id !== jobMessage.id &&
            m.message_reference?.message_id === jobMessage.id &&
            names(job)(m) &&
            m.attachments.length > 0,
        ),
    );
    expect(video.content).toContain(`<@${job.userId}>`);
    const withFile = discord()
      .channelMessages(channel)
      .filter((m) => names(job)(m) && m.attachments.length > 0);
    expect(withFile.map((m) => m.id)).toEqual([video.id]);
    return video;
  }

  const customIds = (m: FakeMessage) =>
    (m.components as { components: { custom_id: string; label: string }[] }[]).flatMap((r) =>
      r.components.map((c) => c.custom_id),
    );
  const generates = () => stack.sim.requests.filter((r) => r.path === "/api/generate").length;
  const ledgerOf = async (jobId: number) =>
    (await db().select().from(creditLedger).where(eq(creditLedger.jobId, jobId))).map((r) => r.kind).sort();
  const jobsOf = (guild: string) => db().select().from(jobs).where(eq(jobs.guildId, guild));

  it("puts Re-roll, Edit, Continue, Use as reference and Share under a delivered video, in the requester's language", async () => {
    const { job, message } = await clip("A paper boat on a pond");
    const ids = customIds(message);
    expect(ids).toEqual(
      ["reroll", "edit", "continue", "reference", "share"].map((a) => `kb1:${a}:${job.id}`),
    );
    const labels = (message.components[0] as { components: { label: string }[] }).components.map(
      (c) => c.label,
    );
    expect(labels).toEqual(["Re-roll", "Edit", "Continue", "Use as reference", "Share"]);
    const ja = await clip("池に浮かぶ紙の舟", {}, { locale: "ja" });
    const jaLabels = (ja.message.components[0] as { components: { label: string }[] }).components.map(
      (c) => c.label,
    );
    expect(jaLabels).toEqual(["もう一度作る", "編集", "続きを作る", "参照に使う", "共有"]);
  });

  it("Re-roll makes the same request again as a new job of the clicker, its cost in its own reply, pinging nobody", async () => {
    const { job, message } = await clip("A red fox in the snow", { duration: 4, aspect_ratio: "9:16" });
    const before = await getBalance(db(), GUILD_ID);
    const { id } = await click(`kb1:reroll:${job.id}`, message, { user: MEMBER });
    const confirmation = await privately(id, /new video is queued: https:\/\/discord\.com\/channels\//);
    const again = await settled(id);
    expect(again.userId).toBe(MEMBER);
    expect(again.id).not.toBe(job.id);
    expect(again.request).toMatchObject({ generate: (job.request as { generate: unknown }).generate });
    expect(taskOf(again)).toEqual(taskOf(job));
    expect(taskOf(again)).toMatchObject({ type: "std-text-to-video", duration: 4, aspect_ratio: "9:16" });
    // Its own message, a reply to the clip: queued with its cost first, pinging nobody.
    const reply = await replyOf(CHANNEL_ID, message.id, again);
    expect(confirmation.content).toContain(reply.id);
    expect(JSON.stringify(reply.createdWith.body)).toMatch(/240 credits/);
    for (const write of [reply.createdWith, ...reply.edits]) {
      expect(write.body.allowed_mentions).toMatchObject({ parse: [], users: [] });
    }
    expect(reply.pings).toEqual({ everyone: false, users: [], roles: [] });
    expect(reply.pingedRepliedUser).toBeUndefined();
    // The new video comes as a new message replying to it, with its own buttons, pinging the clicker alone
    // (not the clip's requester); the job's message then points to it.
    const video = await videoOf(CHANNEL_ID, reply, again);
    expect(customIds(video)).toEqual(
      ["reroll", "edit", "continue", "reference", "share"].map((a) => `kb1:${a}:${again.id}`),
    );
    expect(video.pings).toEqual({ everyone: false, users: [MEMBER], roles: [] });
    expect(video.pingedRepliedUser).toBeUndefined();
    expect(video.allowed_mentions).toEqual({ parse: [], users: [MEMBER] });
    expect(again.videoMessageId).toBe(video.id);
    await discord().waitFor(() => text(reply).includes(video.id) || undefined);
    expect(reply.components).toEqual([]);
    expect(await getBalance(db(), GUILD_ID)).toBe(before - 240);
    expect(await ledgerOf(again.id)).toEqual(["capture", "hold"]);
  });

  it("Edit asks for the change and the quality, then sends an O3 video edit of this video", async () => {
    const { job, message } = await clip("A lighthouse at dusk");
    const { id: opened } = await click(`kb1:edit:${job.id}`, message, { user: MEMBER });
    const modal = await modalOf(opened);
    expect(modal.title).toMatch(/360.*435/);
    expect(inputs(modal).map((i) => i.custom_id)).toEqual(["prompt", "quality"]);
    const { id } = await submit(
      `kb1:edit:${job.id}`,
      { prompt: "Make it a stormy night", quality: "pro" },
      message,
      {
        user: MEMBER,
      },
    );
    await privately(id, /queued/);
    const edit = await settled(id);
    expect(taskOf(edit)).toEqual({
      type: "o3-pro-video-edit",
      prompt: "Make it a stormy night",
      video: job.resultUrl,
      keep_original_sound: true,
    });
    expect(edit.estimatedCost).toBe(435);
    // A quality that is not one refuses with the validation message; nothing is held.
    const sent = generates();
    const { id: bad } = await submit(`kb1:edit:${job.id}`, { prompt: "x", quality: "ultra" }, message, {
      user: MEMBER,
    });
    await privately(bad, /`quality` must be one of `pro` or `std`: type one of them/);
    expect(await jobOf(bad)).toBeUndefined();
    expect(generates()).toBe(sent);
  });

  it("Continue starts an image-to-video of the same model, duration and aspect ratio from the clip's last frame", async () => {
    const { job, message } = await clip("A kite over the dunes", { duration: 4, aspect_ratio: "1:1" });
    const { id: opened } = await click(`kb1:continue:${job.id}`, message, { user: MEMBER });
    const modal = await modalOf(opened);
    expect(modal.title).toMatch(/240 credits/);
    const { id } = await submit(`kb1:continue:${job.id}`, { prompt: "The kite string snaps" }, message, {
      user: MEMBER,
    });
    await privately(id, /queued/);
    const next = await settled(id);
    const task = taskOf(next);
    expect(task).toMatchObject({
      type: "std-image-to-video",
      prompt: "The kite string snaps",
      duration: 4,
      aspect_ratio: "1:1",
      sound: true,
    });
    // The start image is the frame the bot posted: a PNG of the clip's size (the simulator's clip is 160×90).
    const frame = discord()
      .channelMessages(CHANNEL_ID)
      .flatMap((m) => m.attachments.map((a) => ({ m, a })))
      .find(({ a }) => a.url === task.image);
    expect(frame, "the start image is an attachment the bot posted").toBeDefined();
    expect(frame!.m.message_reference?.message_id).toBe(message.id);
    expect(frame!.m.pings.users).toEqual([]);
    expect(frame!.m.pingedRepliedUser).toBeUndefined();
    expect(pngSize(frame!.a.data)).toEqual({ width: 160, height: 90 });
    expect(frame!.a.data.subarray(1, 4).toString()).toBe("PNG");
  });

  it("Use as reference sends an O3 reference-to-video with this video and its last frame", async () => {
    const { job, message } = await clip("A tram in the rain", { duration: 3 });
    const { id: opened } = await click(`kb1:reference:${job.id}`, message, { user: MEMBER });
    expect((await modalOf(opened)).title).toMatch(/60 credits/);
    const { id } = await submit(
      `kb1:reference:${job.id}`,
      { prompt: "The same tram, in the snow" },
      message,
      {
        user: MEMBER,
      },
    );
    await privately(id, /queued/);
    const made = await settled(id);
    const task = taskOf(made);
    expect(task).toMatchObject({
      type: "o3-std-reference-to-video",
      prompt: "The same tram, in the snow",
      video: job.resultUrl,
      duration: 3,
      aspect_ratio: "16:9",
    });
    const images = task.images as string[];
    expect(images).toHaveLength(1);
    const frame = discord()
      .channelMessages(CHANNEL_ID)
      .flatMap((m) => m.attachments)
      .find((a) => a.url === images[0]);
    expect(pngSize(frame!.data)).toEqual({ width: 160, height: 90 });
  });

  it("answers privately with the reason when the clip's link has expired, and posts and holds nothing", async () => {
    const { job, message } = await clip("A glass of lemonade");
    const before = await getBalance(db(), GUILD_ID);
    const posts = discord().channelMessages(CHANNEL_ID).length;
    for (const action of ["continue", "edit"]) {
      stack.sim.inject({ route: "video", kind: "error", status: 404 });
      const fields: Record<string, string> =
        action === "edit" ? { prompt: "Add ice", quality: "std" } : { prompt: "It fizzes" };
      const { id } = await submit(`kb1:${action}:${job.id}`, fields, message, { user: MEMBER });
      await privately(id, /HTTP 404 \(the link may have expired\)/);
      expect(await jobOf(id)).toBeUndefined();
    }
    expect(discord().channelMessages(CHANNEL_ID)).toHaveLength(posts);
    expect(await getBalance(db(), GUILD_ID)).toBe(before);
    // A job that is not there (or not this server's) answers the same way, privately.
    await privately(
      (await click("kb1:continue:987654321", message, { user: MEMBER })).id,
      /can't find this video's job/,
    );
  });

  it("Share posts the video once in the gallery channel, with its prompt escaped and its author, pinging nobody", async () => {
    const prompt = "@everyone look at **this** <@&900000000000000005>";
    const in2 = { guild: GUILD2, user: MEMBER2 };
    const { job, message } = await clip(prompt, {}, in2);
    await privately(
      (await click(`kb1:share:${job.id}`, message, { guild: GUILD2, user: MEMBER })).id,
      /Only the member who made/,
    );
    await privately((await click(`kb1:share:${job.id}`, message, in2)).id, /gallery_channel/);
    await privately(
      (await command("budget", "config", { gallery_channel: GALLERY }, { guild: GUILD2, manager: true })).id,
      new RegExp(`Gallery channel <#${GALLERY}>`),
    );
    const clicks = await Promise.all([1, 2, 3].map(() => click(`kb1:share:${job.id}`, message, in2)));
    const answers = await Promise.all(clicks.map((c) => answered(c.id)));
    for (const a of answers) expect(a.ephemeral).toBe(true);
    expect(answers.filter((a) => /Shared in/.test(a.content))).toHaveLength(1);
    const posted = discord().channelMessages(GALLERY);
    expect(posted).toHaveLength(1);
    const post = posted[0]!;
    expect(post.allowed_mentions).toEqual({ parse: [], users: [], replied_user: false });
    expect(post.pings).toEqual({ everyone: false, users: [], roles: [] });
    expect(post.attachments).toHaveLength(1);
    expect(post.attachments[0]!.data.subarray(4, 8).toString()).toBe("ftyp");
    const embed = text(post);
    expect(embed).toContain("@\u200beveryone");
    expect(embed).toContain("\\*\\*this\\*\\*");
    expect(embed).toContain(`<@${MEMBER2}>`);
    expect(embed).toContain(`/channels/${GUILD2}/${CHANNEL2}/${message.id}`);
    // Later clicks point to it.
    await privately(
      (await click(`kb1:share:${job.id}`, message, in2)).id,
      new RegExp(`already in .*${post.id}`),
    );
    expect(discord().channelMessages(GALLERY)).toHaveLength(1);
  });

  it("Cancel on a queued reply goes once the job is submitted", async () => {
    const { id } = await command("video", "text", { prompt: "A snail on a leaf" });
    await settled(id);
    const reply = discord().interactionState(id)!.original!;
    const job = (await jobOf(id))!;
    const cancel = `kb1:cancel:${job.id}`;
    const ids = [reply.createdWith, ...reply.edits].map((w) => {
      const rows = w.body.components as { components: { custom_id: string }[] }[] | undefined;
      return (rows ?? []).flatMap((r) => r.components.map((c) => c.custom_id));
    });
    // Queued with Cancel; the next write (the job was sent: generating) has no buttons, nor has the last (the
    // pointer to the video); the video's own message carries the clip's buttons, and no Cancel.
    const queued = ids.findIndex((x) => x.includes(cancel));
    expect(queued, JSON.stringify(ids)).toBeGreaterThanOrEqual(0);
    expect(ids[queued + 1]).toEqual([]);
    expect(ids.at(-1)).toEqual([]);
    const video = await waitForVideo(discord(), id);
    expect(customIds(video)).not.toContain(cancel);
    expect(customIds(video)).toContain(`kb1:reroll:${job.id}`);
  });

  it("Re-roll by a member over their daily cap is refused privately, holding and sending nothing", async () => {
    const { job, message } = await clip("A windmill", {}, { guild: GUILD2, user: MEMBER2 });
    await configureServer2({ daily_cap: 100 });
    const before = await getBalance(db(), GUILD2);
    const sent = generates();
    const { id } = await click(`kb1:reroll:${job.id}`, message, { guild: GUILD2, user: MEMBER2 });
    await privately(id, /costs 300 credits; you have spent .* of your 100 credits for today/);
    expect(await jobOf(id)).toBeUndefined();
    expect(await getBalance(db(), GUILD2)).toBe(before);
    expect(generates()).toBe(sent);
    await configureServer2({ daily_cap: 0 });
  });

  it("Cancel ends a job waiting for approval once under two simultaneous clicks, releasing its credits once", async () => {
    await configureServer2({ moderator_channel: MODS2, approval_above: 100 });
    const before = await getBalance(db(), GUILD2);
    const { id } = await command(
      "video",
      "text",
      { prompt: "A cathedral" },
      { guild: GUILD2, user: MEMBER2 },
    );
    const waiting = await answered(id);
    const job = (await jobOf(id))!;
    expect(customIds(waiting)).toEqual([`kb1:cancel:${job.id}`]);
    expect(await getBalance(db(), GUILD2)).toBe(before - 300);
    // Someone else who is not a manager changes nothing.
    await privately(
      (await click(`kb1:cancel:${job.id}`, waiting, { guild: GUILD2, user: MEMBER })).id,
      /Only the member who asked/,
    );
    const [a, b] = await Promise.all(
      [1, 2].map(() => click(`kb1:cancel:${job.id}`, waiting, { guild: GUILD2, user: MEMBER2 })),
    );
    const texts = (await Promise.all([a!, b!].map((c) => answered(c.id)))).map((m) => m.content).sort();
    expect(texts[0]).toMatch(/already ended/);
    expect(texts[1]).toMatch(/was cancelled/);
    expect(await ledgerOf(job.id)).toEqual(["hold", "release"]);
    expect(await getBalance(db(), GUILD2)).toBe(before);
    const ended = await discord().waitFor(() => {
      const m = discord().interactionState(id)?.original;
      return m && /cancelled by/.test(text(m)) ? m : undefined;
    });
    expect(ended.components).toEqual([]);
    await configureServer2({ approval_above: 0 });
  });

  it("a follow-up over the approval limit waits for a manager like /video, and its own reply cancels it", async () => {
    const { job: source, message } = await clip("A harbour at noon", {}, { guild: GUILD2, user: MEMBER2 });
    await configureServer2({ moderator_channel: MODS2, approval_above: 100 });
    const before = await getBalance(db(), GUILD2);
    const { id } = await click(`kb1:reroll:${source.id}`, message, { guild: GUILD2, user: MEMBER });
    await privately(id, /queued/);
    const job = (await jobOf(id))!;
    expect(job).toMatchObject({ state: "pending", needsApproval: true, userId: MEMBER });
    const reply = await replyOf(CHANNEL2, message.id, job);
    expect(text(reply)).toMatch(/waiting for approval/);
    expect(customIds(reply)).toEqual([`kb1:cancel:${job.id}`]);
    const request = await discord().waitFor(() =>
      discord()
        .channelMessages(MODS2)
        .find((m) => new RegExp(`#${job.number}(?!\\d)`).test(JSON.stringify(m.embeds))),
    );
    expect(customIds(request)).toEqual([`kb1:approve:${job.id}`, `kb1:deny:${job.id}`]);
    expect(await getBalance(db(), GUILD2)).toBe(before - 300);
    await privately(
      (await click(`kb1:cancel:${job.id}`, reply, { guild: GUILD2, user: MEMBER })).id,
      /was cancelled/,
    );
    await discord().waitFor(() => /cancelled by/.test(text(reply)) || undefined);
    expect(reply.components).toEqual([]);
    await discord().waitFor(() => /Cancelled by/.test(text(request)) || undefined);
    expect(await getBalance(db(), GUILD2)).toBe(before);
    await configureServer2({ approval_above: 0 });
  });

  it('"Animate with Kling" obeys the server\'s channels before its form opens', async () => {
    const photo = discord().postAsMember(MODS2, {
      userId: MEMBER2,
      attachments: [{ filename: "a.png", content_type: "image/png", size: 64 }],
    });
    const mgr = { guild: GUILD2, manager: true };
    const list = (sub: string) =>
      discord().sendInteraction(
        discord().chatInput({
          name: "budget",
          group: "channels",
          subcommand: sub,
          options: { channel: CHANNEL2 },
          ...who(mgr),
        }),
      );
    await privately((await list("add")).id, /Added/);
    const { id } = await discord().sendInteraction(
      discord().messageMenu({
        name: "Animate with Kling",
        message: discord().apiMessage(photo),
        ...who({ guild: GUILD2, channel: MODS2, user: MEMBER2 }),
      }),
    );
    await privately(id, /can't be made in this channel/);
    expect(discord().interactionState(id)!.modal).toBeUndefined();
    await privately((await list("remove")).id, /Removed/);
  });

  it("a forged custom_id naming another server's job does nothing", async () => {
    const { job, message } = await clip("A private clip");
    const balances = [await getBalance(db(), GUILD_ID), await getBalance(db(), GUILD2)];
    const count = [(await jobsOf(GUILD_ID)).length, (await jobsOf(GUILD2)).length];
    const sent = generates();
    const gallery = discord().channelMessages(GALLERY).length;
    const as = { guild: GUILD2, user: USER_ID, manager: true };
    for (const action of ["reroll", "edit", "continue", "reference", "share"]) {
      await privately(
        (await click(`kb1:${action}:${job.id}`, message, as)).id,
        /can't find this video's job/,
      );
    }
    await privately((await submit(`kb1:continue:${job.id}`, { prompt: "x" }, message, as)).id, /can't find/);
    await privately((await click(`kb1:cancel:${job.id}`, message, as)).id, /no video #\d+ in this server/);
    expect([await getBalance(db(), GUILD_ID), await getBalance(db(), GUILD2)]).toEqual(balances);
    expect([(await jobsOf(GUILD_ID)).length, (await jobsOf(GUILD2)).length]).toEqual(count);
    expect(generates()).toBe(sent);
    expect(discord().channelMessages(GALLERY)).toHaveLength(gallery);
  });

  it('"Animate with Kling" refuses a message without an image, checks the modal\'s input, and animates an image', async () => {
    const registered = discord()
      .registeredCommands(GUILD_ID)
      .find((c) => c.type === 3);
    expect(registered).toMatchObject({
      name: "Animate with Kling",
      name_localizations: { ja: "Klingで動かす" },
    });
    const menu = (target: FakeMessage, as: As = {}) =>
      discord().sendInteraction(
        discord().messageMenu({
          name: "Animate with Kling",
          message: discord().apiMessage(target),
          ...who(as),
        }),
      );
    const plain = discord().postAsMember(CHANNEL_ID, { userId: MEMBER, content: "just words" });
    await privately((await menu(plain)).id, /needs a message with an image/);

    const photo = discord().postAsMember(CHANNEL_ID, {
      userId: MEMBER,
      content: "my photo",
      attachments: [{ filename: "beach.png", content_type: "image/png", size: 4096 }],
    });
    const opened = await menu(photo, { user: USER_ID });
    const modal = await modalOf(opened.id);
    expect(modal.title).toMatch(/300 credits/);
    expect(inputs(modal).map((i) => i.label)).toEqual(["Prompt", "Duration (seconds)", "Model"]);
    expect(inputs(modal).map((i) => i.value)).toEqual([undefined, "5", "std"]);

    const before = await getBalance(db(), GUILD_ID);
    const sent = generates();
    const animate = (fields: Record<string, string>) =>
      submit(modal.custom_id, fields, undefined, { user: USER_ID });
    await privately(
      (await animate({ prompt: "Waves roll in", duration: "six", model: "std" })).id,
      /`duration` must be a whole number of seconds/,
    );
    await privately(
      (await animate({ prompt: "Waves roll in", duration: "5", model: "turbo" })).id,
      /`model` must be one of/,
    );
    expect(await getBalance(db(), GUILD_ID)).toBe(before);
    expect(generates()).toBe(sent);

    const { id } = await animate({ prompt: "Waves roll in", duration: "６", model: "PRO" });
    await privately(id, /queued/);
    const made = await settled(id);
    expect(made.userId).toBe(USER_ID);
    expect(taskOf(made)).toMatchObject({
      type: "pro-image-to-video",
      prompt: "Waves roll in",
      image: photo.attachments[0]!.url,
      duration: 6,
    });
    const reply = await replyOf(CHANNEL_ID, photo.id, made);
    // A reply that pings nobody, not even the author of the photo; its video pings the requester alone.
    expect(reply.pings.users).toEqual([]);
    expect(reply.pingedRepliedUser).toBeUndefined();
    const video = await videoOf(CHANNEL_ID, reply, made);
    expect(video.pings.users).toEqual([USER_ID]);
    expect(customIds(video)).toContain(`kb1:continue:${made.id}`);

    // An image embed (a link to a picture) works too.
    const linked = discord().postAsMember(CHANNEL_ID, {
      userId: MEMBER,
      content: "https://images.example.com/cat.png",
      embeds: [
        {
          type: "image",
          url: "https://images.example.com/cat.png",
          thumbnail: { url: "https://images.example.com/cat.png" },
        },
      ],
    });
    const second = await modalOf((await menu(linked)).id);
    const { id: fromLink } = await submit(
      second.custom_id,
      { prompt: "The cat yawns", duration: "", model: "" },
      undefined,
    );
    await privately(fromLink, /queued/);
    expect(taskOf(await settled(fromLink))).toMatchObject({
      type: "std-image-to-video",
      image: "https://images.example.com/cat.png",
      duration: 5,
    });
  });

  it("keeps the buttons working after a restart", async () => {
    const { job, message } = await clip("A hot-air balloon");
    await stack.stopBot();
    const config = loadConfig(stack.env, ["bot", "kling"]);
    let bot: Bot | undefined;
    try {
      bot = await startBot({ config, logger: silentLogger(), database: stack.database, kling: stack.kling });
      const { id } = await click(`kb1:reroll:${job.id}`, message, { user: MEMBER });
      await privately(id, /queued/);
      expect((await settled(id)).state).toBe("completed");
      const [row] = await db()
        .select()
        .from(jobs)
        .where(and(eq(jobs.interactionId, id), eq(jobs.guildId, GUILD_ID)));
      expect(taskOf(row!)).toEqual(taskOf(job));
      const video = await videoOf(CHANNEL_ID, await replyOf(CHANNEL_ID, message.id, row!), row!);
      expect(customIds(video)).toContain(`kb1:reroll:${row!.id}`);
    } finally {
      await bot?.stop();
    }
  });
});

interface ModalJson {
  title: string;
  custom_id: string;
  components: { components: { custom_id: string; label: string; value?: string }[] }[];
}

function inputs(modal: ModalJson) {
  return modal.components.flatMap((r) => r.components);
}
