import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { creditLedger, jobs } from "../../src/db/schema.js";
import { checkInvariants, ensureGuild, getBalance, grantCredits } from "../../src/ledger/index.js";
import { type ChatInputSpec, type FakeMessage, Permission } from "../fakes/discord/index.js";
import { testDrivers } from "../helpers/db.js";
import { CHANNEL_ID, GUILD_ID, type Stack, startStack, waitForVideo } from "./harness.js";

const USER = "900000000000000099";
const STARTING = 10_000;
const png = (filename: string, size = 2048) => ({ filename, content_type: "image/png", size });
const mp4 = (filename: string, size = 4096) => ({ filename, content_type: "video/mp4", size });

describe.each(testDrivers())("/video end to end on %s", (driver) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ driver });
    await ensureGuild(stack.database.db, GUILD_ID, STARTING);
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(() => {
    stack.sim.clearRequests();
  });
  afterEach(() => {
    stack.sim.clearFaults();
    stack.discord.clearFaults();
    stack.sim.setVideoBytes(undefined);
  });

  const db = () => stack.database.db;

  async function send(spec: Partial<ChatInputSpec> & { subcommand: string }) {
    const payload = stack.discord.chatInput({
      name: "video",
      userId: USER,
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
      ...spec,
    });
    return stack.discord.sendInteraction(payload);
  }

  /** The interaction's reply once `predicate` holds for it. */
  function reply(id: string, predicate: (m: FakeMessage) => boolean, timeoutMs = 15_000) {
    return stack.discord.waitFor(() => {
      const original = stack.discord.interactionState(id)?.original;
      return original && predicate(original) ? original : undefined;
    }, timeoutMs);
  }

  const titled = (word: string) => (m: FakeMessage) => JSON.stringify(m.embeds).includes(word);
  const generates = () => stack.sim.requests.filter((r) => r.path === "/api/generate");

  async function jobOf(interactionId: string) {
    const [job] = await db().select().from(jobs).where(eq(jobs.interactionId, interactionId));
    return job;
  }

  /** The job once it reached a final state (the reply is edited just before the row says so). */
  async function settled(interactionId: string) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const job = await jobOf(interactionId);
      if (job && (job.state === "completed" || job.state === "failed")) return job;
      if (Date.now() > deadline) throw new Error(`job of ${interactionId} still ${job?.state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function ledgerOf(jobId: number) {
    const rows = await db().select().from(creditLedger).where(eq(creditLedger.jobId, jobId));
    return rows.map((r) => [r.kind, r.amount]).sort();
  }

  function everyWrite(m: FakeMessage) {
    return [m.createdWith, ...m.edits];
  }

  const video = (id: string, options: { linked?: boolean; timeoutMs?: number } = {}) =>
    waitForVideo(stack.discord, id, options);

  /** Every upload of a file in a channel, by every write of every message there. */
  function uploads(channelId = CHANNEL_ID) {
    return stack.discord
      .channelMessages(channelId)
      .flatMap((m) =>
        everyWrite(m).flatMap((w) => w.files.map((f) => ({ message: m.id, file: f.filename }))),
      );
  }

  it("/video text: defers publicly, holds, submits the exact request, posts the video pinging the requester, captures", async () => {
    const before = await getBalance(db(), GUILD_ID);
    const uploadsBefore = uploads().length;
    const { id } = await send({
      subcommand: "text",
      options: {
        prompt: "A cat on a skateboard",
        model: "pro",
        duration: 5,
        aspect_ratio: "9:16",
        sound: true,
      },
    });
    const done = await video(id);
    const state = stack.discord.interactionState(id)!;
    // Answered at once when the checks are quick (the usual case), deferred first otherwise; public either way.
    expect([4, 5]).toContain(state.callbackType);
    expect((state.callbackFlags ?? 0) & 64).toBe(0);

    expect(generates()).toHaveLength(1);
    expect(generates()[0]!.body).toEqual({
      type: "pro-text-to-video",
      prompt: "A cat on a skateboard",
      duration: 5,
      aspect_ratio: "9:16",
      sound: true,
    });
    const file = done.attachments[0]!;
    expect(file.filename).toMatch(/\.mp4$/);
    expect(file.data.subarray(4, 8).toString("latin1")).toBe("ftyp");
    const text = JSON.stringify(done.embeds);
    expect(text).toContain("400 credits");
    expect(text).toContain("A cat on a skateboard");
    expect(text).toContain(`<@${USER}>`);
    // A new message (a follow-up of the command) that pings the requester alone.
    expect(done.createdWith.route).toBe("webhook");
    expect(done.content).toBe(`<@${USER}> your video is ready.`);
    expect(done.createdWith.body.allowed_mentions).toEqual({ parse: [], users: [USER] });
    expect(done.pings).toEqual({ everyone: false, users: [USER], roles: [] });

    const job = await settled(id);
    expect(done.embeds[0]?.title).toBe(`Video #${job.number}`);
    // The server's balance after the charge, as it is once settled.
    const after = await getBalance(db(), GUILD_ID);
    expect(text).toContain(`the server has ${after.toLocaleString("en-US")} credits left`);
    // The reply became a one-line pointer to the video, and the channel holds the video once.
    const pointer = stack.discord.interactionState(id)!.original!;
    expect(pointer.content).toBe(
      `**Video #${job.number}** is ready: https://discord.com/channels/${GUILD_ID}/${CHANNEL_ID}/${done.id}`,
    );
    expect(pointer).toMatchObject({ embeds: [], attachments: [] });
    expect(pointer.pings).toEqual({ everyone: false, users: [], roles: [] });
    expect(uploads().slice(uploadsBefore)).toEqual([{ message: done.id, file: `video-${job.number}.mp4` }]);
    expect(job.videoMessageId).toBe(done.id);
    expect(job.videoAttached).toBe(true);
    expect(job?.state).toBe("completed");
    expect(job?.interactionToken).toBeNull();
    expect(await ledgerOf(job!.id)).toEqual([
      ["capture", 0],
      ["hold", -400],
    ]);
    expect(before - (await getBalance(db(), GUILD_ID))).toBe(400);
    expect((await checkInvariants(db(), GUILD_ID)).ok).toBe(true);
  });

  it("/video image: sends the attachment as the start image and the link as the last frame", async () => {
    const { id } = await send({
      subcommand: "image",
      options: { prompt: "It turns and smiles", end_image_url: "https://example.com/end.png", sound: false },
      attachments: { image: png("start.png") },
    });
    await video(id);
    const body = generates()[0]!.body as Record<string, unknown>;
    expect(body).toMatchObject({
      type: "std-image-to-video",
      prompt: "It turns and smiles",
      image_tail: "https://example.com/end.png",
      duration: 5,
      aspect_ratio: "16:9",
      sound: false,
    });
    expect(String(body.image)).toMatch(/^https:\/\/cdn\.discordapp\.com\/.*start\.png/);
  });

  it("/video reference: sends every image and the reference video to O3", async () => {
    const { id } = await send({
      subcommand: "reference",
      options: { prompt: "Walks through a city", quality: "pro", duration: 4 },
      attachments: { image1: png("a.png"), image2: png("b.png"), video: mp4("ref.mp4") },
    });
    await video(id);
    const body = generates()[0]!.body as Record<string, unknown>;
    expect(body).toMatchObject({ type: "o3-pro-reference-to-video", duration: 4, aspect_ratio: "16:9" });
    expect(body.images).toHaveLength(2);
    expect(String(body.video)).toContain("ref.mp4");
    expect(body).not.toHaveProperty("sound");
    const job = await jobOf(id);
    expect(job?.chargedCost).toBe(4 * 72);
  });

  it("/video edit: sends the video link, keeps its sound, sends no duration", async () => {
    const { id } = await send({
      subcommand: "edit",
      options: { prompt: "Make it snow", video_url: "https://example.com/clip.mp4" },
    });
    await video(id);
    expect(generates()[0]!.body).toEqual({
      type: "o3-std-video-edit",
      prompt: "Make it snow",
      video: "https://example.com/clip.mp4",
      keep_original_sound: true,
    });
    expect((await jobOf(id))?.chargedCost).toBe(360);
  });

  const invalid: [string, Partial<ChatInputSpec> & { subcommand: string }, RegExp][] = [
    [
      "O3 with sound",
      { subcommand: "text", options: { prompt: "x", model: "o3-pro", sound: true } },
      /`sound`/,
    ],
    [
      "O3 with prompt fidelity",
      {
        subcommand: "text",
        options: { prompt: "x", model: "o3-std", prompt_fidelity: { type: 10, value: 0.4 } },
      },
      /`prompt_fidelity`/,
    ],
    ["blank prompt", { subcommand: "text", options: { prompt: "   " } }, /`prompt` is empty/],
    ["no image", { subcommand: "image", options: { prompt: "x" } }, /Attach `image` or give `image_url`/],
    [
      "image and image_url",
      {
        subcommand: "image",
        options: { prompt: "x", image_url: "https://e.com/a.png" },
        attachments: { image: png("a.png") },
      },
      /not both/,
    ],
    [
      "http link",
      { subcommand: "image", options: { prompt: "x", image_url: "http://e.com/a.png" } },
      /https/,
    ],
    [
      "GIF image",
      {
        subcommand: "image",
        options: { prompt: "x" },
        attachments: { image: { filename: "a.gif", content_type: "image/gif", size: 10 } },
      },
      /PNG, JPEG or WebP/,
    ],
    [
      "image too large",
      {
        subcommand: "image",
        options: { prompt: "x" },
        attachments: { image: png("big.png", 11 * 1024 * 1024) },
      },
      /limit is 10 MiB/,
    ],
    [
      "reference video of the wrong type",
      {
        subcommand: "reference",
        options: { prompt: "x" },
        attachments: {
          image1: png("a.png"),
          video: { filename: "v.avi", content_type: "video/x-msvideo", size: 10 },
        },
      },
      /MP4 or MOV/,
    ],
    [
      "edit without a video",
      { subcommand: "edit", options: { prompt: "x" } },
      /Attach `video` or give `video_url`/,
    ],
  ];

  it.each(invalid)(
    "refuses %s with an ephemeral message, holding and sending nothing",
    async (_name, spec, message) => {
      const before = await getBalance(db(), GUILD_ID);
      const { id } = await send(spec);
      const state = await stack.discord.waitFor(() => {
        const s = stack.discord.interactionState(id);
        return s?.callbackType ? s : undefined;
      });
      expect(state.callbackType).toBe(4);
      expect((state.callbackFlags ?? 0) & 64).toBe(64);
      expect(state.original?.content).toMatch(message);
      expect(state.original?.content).toContain("Nothing was charged");
      expect(generates()).toHaveLength(0);
      expect(await jobOf(id)).toBeUndefined();
      expect(await getBalance(db(), GUILD_ID)).toBe(before);
    },
  );

  it("answers in a DM that it works in servers", async () => {
    const payload = stack.discord.chatInput({
      name: "video",
      subcommand: "text",
      options: { prompt: "x" },
      userId: USER,
      guildId: null,
    });
    const { id } = await stack.discord.sendInteraction(payload);
    const state = await stack.discord.waitFor(() => stack.discord.interactionState(id)?.original);
    expect(state.content).toMatch(/servers/);
    expect(generates()).toHaveLength(0);
  });

  it("shows the cost and the balance when the server lacks credits, and sends nothing", async () => {
    const balance = await getBalance(db(), GUILD_ID);
    await grantCredits(db(), {
      guildId: GUILD_ID,
      amount: -(balance - 100),
      actorId: "test",
      reason: "test",
    });
    try {
      const { id } = await send({ subcommand: "text", options: { prompt: "x", model: "pro", duration: 5 } });
      const m = await reply(id, titled("Not enough"));
      expect(JSON.stringify(m.embeds)).toMatch(/400 credits.*100 credits.*300 credits short/);
      expect(generates()).toHaveLength(0);
      expect(await jobOf(id)).toBeUndefined();
      expect(await getBalance(db(), GUILD_ID)).toBe(100);
    } finally {
      await grantCredits(db(), { guildId: GUILD_ID, amount: balance - 100, actorId: "test", reason: "test" });
    }
  });

  it("ends a failed task with its reason and returns the credits", async () => {
    const before = await getBalance(db(), GUILD_ID);
    const { id } = await send({ subcommand: "text", options: { prompt: "A storm [fail]" } });
    const m = await reply(id, titled("failed"));
    expect(JSON.stringify(m.embeds)).toMatch(/returned to the server/);
    const job = await settled(id);
    expect(job?.state).toBe("failed");
    expect(await ledgerOf(job!.id)).toEqual([
      ["hold", -300],
      ["release", 300],
    ]);
    expect(await getBalance(db(), GUILD_ID)).toBe(before);
  });

  it("tells the member to reach the operator when the API account is empty, and returns the credits", async () => {
    const before = await getBalance(db(), GUILD_ID);
    const apiBalance = stack.sim.balance();
    stack.sim.setBalance(0);
    try {
      const { id } = await send({ subcommand: "text", options: { prompt: "A lake" } });
      const m = await reply(id, titled("failed"));
      expect(JSON.stringify(m.embeds)).toMatch(/operator/);
      expect((await settled(id)).state).toBe("failed");
      expect(await getBalance(db(), GUILD_ID)).toBe(before);
    } finally {
      stack.sim.setBalance(apiBalance);
    }
  });

  it("retries a 429 on submit and 500s on status checks, creating one task", async () => {
    stack.sim.inject({ route: "generate", kind: "rate-limit", retryAfter: 0, times: 1 });
    stack.sim.inject({ route: "status", kind: "error", status: 500, code: "INTERNAL_ERROR", times: 2 });
    const { id } = await send({ subcommand: "text", options: { prompt: "A forest" } });
    await video(id, { timeoutMs: 20_000 });
    expect(generates().length).toBe(2);
    const job = await settled(id);
    expect(job?.state).toBe("completed");
    const created = [...stack.sim.tasks.values()].filter((t) => t.id === job?.klingTaskId);
    expect(created).toHaveLength(1);
  });

  it("posts the video in the channel after the interaction token expired, and points the reply to it there", async () => {
    stack.sim.inject({ route: "status", kind: "delay", ms: 300, times: 1 });
    const { id, token } = await send({ subcommand: "text", options: { prompt: "A slow river" } });
    await reply(id, titled("queued"));
    stack.discord.expireToken(token);
    const done = await video(id);
    expect(done.createdWith.route).toBe("channel");
    expect(done.nonce).toBeDefined();
    expect(done.pings).toEqual({ everyone: false, users: [USER], roles: [] });
    const pointer = await reply(id, (m) => m.content.includes(done.id));
    const last = pointer.edits.at(-1)!;
    expect(last.route).toBe("channel");
    expect(last.path).toMatch(new RegExp(`/channels/${CHANNEL_ID}/messages/${pointer.id}`));
    expect(uploads().filter((u) => u.message === done.id || u.message === pointer.id)).toHaveLength(1);
  });

  it("pings only the requester for a prompt with @everyone, even when its reply can no longer be edited", async () => {
    stack.sim.inject({ route: "status", kind: "delay", ms: 300, times: 1 });
    const { id, token } = await send({ subcommand: "text", options: { prompt: "@everyone a parade" } });
    const queued = await reply(id, titled("queued"));
    stack.discord.expireToken(token);
    stack.discord.inject({
      method: "PATCH",
      path: /^\/channels\/\d+\/messages\/\d+$/,
      status: 403,
      code: 50001,
      count: 10,
    });
    const posted = await video(id);
    expect(posted.createdWith.route).toBe("channel");
    expect(posted.pings).toEqual({ everyone: false, users: [USER], roles: [] });
    expect(posted.allowed_mentions).toEqual({ parse: [], users: [USER] });
    expect(posted.attachments).toHaveLength(1);
    expect(posted.nonce).toBeDefined();
    // A reply to the job's own reply (which pings nobody: that message is the bot's).
    expect(posted.message_reference?.message_id).toBe(queued.id);
    expect(posted.pingedRepliedUser).toBeUndefined();
    // The reply could not become a pointer; the job is done all the same, and the video is posted once.
    expect((await settled(id)).state).toBe("completed");
    expect(uploads().filter((u) => u.message === posted.id)).toHaveLength(1);
  });

  it("rides out a Discord 429 on an edit and on the video's post, and delivers once", async () => {
    stack.discord.inject({ method: "PATCH", path: /^\/webhooks\//, status: 429, retryAfter: 0.2, count: 1 });
    stack.discord.inject({ method: "POST", path: /^\/webhooks\//, status: 429, retryAfter: 0.2, count: 1 });
    const { id } = await send({ subcommand: "text", options: { prompt: "A meadow" } });
    const done = await video(id);
    expect(done.attachments).toHaveLength(1);
    await settled(id);
    expect(uploads().filter((u) => u.message === done.id)).toHaveLength(1);
    expect(stack.discord.interactionState(id)!.followUps).toHaveLength(1);
  });

  it("posts the video once when Discord's answer to its post is lost", async () => {
    // The follow-up takes effect but its answer is a 500: the bot must not post it a second time.
    stack.discord.inject({
      method: "POST",
      path: /^\/webhooks\//,
      processFirst: true,
      status: 500,
      count: 1,
    });
    const { id } = await send({ subcommand: "text", options: { prompt: "An echo" } });
    const job = await settled(id);
    expect(job.state).toBe("completed");
    const state = stack.discord.interactionState(id)!;
    expect(state.followUps.filter((m) => !m.deleted)).toHaveLength(1);
    expect(job.videoMessageId).toBe(state.followUps[0]!.id);
    expect(state.original!.content).toContain(state.followUps[0]!.id);
  }, 30_000); // the flow tries the delivery again after a pause of about 7 s

  it("pings nobody for a prompt full of mentions but the requester on the video, and shows them inert", async () => {
    const prompt = "@everyone @here <@&900000000000000055> <@900000000000000056> dance";
    const { id } = await send({ subcommand: "text", options: { prompt } });
    const done = await video(id);
    await settled(id);
    const original = stack.discord.interactionState(id)!.original!;
    for (const write of everyWrite(original).slice(1)) {
      expect(write.body.allowed_mentions).toEqual({ parse: [], users: [] });
    }
    expect(original.pings).toEqual({ everyone: false, users: [], roles: [] });
    expect(done.pings).toEqual({ everyone: false, users: [USER], roles: [] });
    for (const m of [original, done]) {
      const text = JSON.stringify(m.embeds);
      expect(text).not.toMatch(/@everyone|@here|<@&\d+>|<@9000+56>/);
    }
    expect(JSON.stringify(done.embeds)).toContain("dance");
    expect(generates()[0]!.body).toMatchObject({ prompt });
  });

  it("links a video larger than the upload limit and says why", async () => {
    stack.sim.setVideoBytes(11 * 1024 * 1024);
    const { id } = await send({ subcommand: "text", options: { prompt: "A long take" } });
    const done = await video(id, { linked: true });
    expect(JSON.stringify(done.embeds)).toContain("larger than");
    expect(done.attachments).toHaveLength(0);
    expect(done.pings).toEqual({ everyone: false, users: [USER], roles: [] });
    expect(JSON.stringify(done.embeds)).toMatch(/Download the video\]\(http/);
    expect((await settled(id)).state).toBe("completed");
  });

  it("links the video when Discord refuses the file as too large", async () => {
    // A server whose channel upload limit is below the video's size; the token expires first, so the
    // video goes through the channel endpoint, which answers 413 / 40005.
    const guildId = "900000000000000881";
    const channelId = "900000000000000882";
    await stack.discord.addGuild({ id: guildId, channels: [{ id: channelId }], uploadLimit: 1000 });
    stack.sim.inject({ route: "status", kind: "delay", ms: 300, times: 1 });
    const { id, token } = await stack.discord.sendInteraction(
      stack.discord.chatInput({
        name: "video",
        subcommand: "text",
        options: { prompt: "A refused upload" },
        userId: USER,
        guildId,
        channelId,
      }),
    );
    await reply(id, titled("queued"));
    stack.discord.expireToken(token);
    const done = await video(id, { linked: true });
    expect(JSON.stringify(done.embeds)).toContain("refused the file");
    expect(done.attachments).toHaveLength(0);
    expect((await settled(id)).state).toBe("completed");
  });

  it("warns at submit time when it could not post in the channel after 15 minutes", async () => {
    const { id } = await send({
      subcommand: "text",
      options: { prompt: "A quiet channel" },
      appPermissions: Permission.ViewChannel | Permission.SendMessages | Permission.EmbedLinks,
    });
    const queued = await reply(id, titled("queued"));
    expect(JSON.stringify(queued.embeds)).toMatch(/I lack Attach Files in this channel/);
    await video(id);
  });

  it("submits a redelivered interaction once", async () => {
    const payload = stack.discord.chatInput({
      name: "video",
      subcommand: "text",
      options: { prompt: "A duplicate" },
      userId: USER,
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
    });
    const first = stack.discord.sendInteraction(payload);
    const second = stack.discord.sendInteraction(payload);
    const { id } = await first;
    await second;
    await video(id);
    // Give a second handler every chance to act before counting.
    await new Promise((r) => setTimeout(r, 300));
    expect(generates()).toHaveLength(1);
    const rows = await db().select().from(jobs).where(eq(jobs.interactionId, id));
    expect(rows).toHaveLength(1);
    expect(await ledgerOf(rows[0]!.id)).toEqual([
      ["capture", 0],
      ["hold", -300],
    ]);
  });

  /** The answer of a command of the test member (in the test guild unless given), once it has content. */
  async function answerTo(spec: Partial<ChatInputSpec> & { subcommand: string }) {
    const { id } = await send(spec);
    return stack.discord.waitFor(() => {
      const state = stack.discord.interactionState(id);
      return state?.original?.embeds.length || state?.original?.content ? state : undefined;
    });
  }

  const description = (state: { original?: FakeMessage }) => String(state.original?.embeds[0]?.description);

  it("/video status, /video history and /budget show answer ephemerally", async () => {
    const { id } = await send({ subcommand: "text", options: { prompt: "For the records", duration: 4 } });
    const posted = await video(id);
    const job = await settled(id);
    const videoLink = `[video](https://discord.com/channels/${GUILD_ID}/${CHANNEL_ID}/${posted.id})`;

    const s = await answerTo({ subcommand: "status", options: { job: job.number } });
    expect((s.callbackFlags ?? 0) & 64).toBe(64);
    expect(s.original!.embeds[0]?.title).toBe(`Video #${job.number}`);
    // The message that carries the video (never expires), the model and the length.
    expect(description(s)).toContain(`**#${job.number}** · Done · 240 credits · ${videoLink}`);
    expect(description(s)).toContain("Kling 3.0 Standard · 4 s");
    expect(description(s)).not.toContain("download link");

    const h = await answerTo({ subcommand: "history" });
    expect(description(h)).toContain("For the records");
    expect(description(h)).toContain(videoLink);
    expect(description(h)).toContain("Kling 3.0 Standard · 4 s");

    const b = await answerTo({ name: "budget", subcommand: "show" });
    expect((b.callbackFlags ?? 0) & 64).toBe(64);
    const balance = await getBalance(db(), GUILD_ID);
    expect(JSON.stringify(b.original!.embeds)).toContain(balance.toLocaleString("en-US"));

    const auto = await stack.discord.sendInteraction(
      stack.discord.autocomplete({
        name: "video",
        subcommand: "status",
        focused: "job",
        options: { job: "" },
        userId: USER,
        guildId: GUILD_ID,
        channelId: CHANNEL_ID,
      }),
    );
    const a = await stack.discord.waitFor(() => stack.discord.interactionState(auto.id)?.autocompleteChoices);
    expect(a).toContainEqual({ name: `#${job.number} · Done · For the records`, value: job.number });
  });

  it("shows a linked video's download link in /video status and /video history, and when it expired", async () => {
    stack.sim.setVideoBytes(11 * 1024 * 1024);
    const { id } = await send({ subcommand: "text", options: { prompt: "Too big to attach", model: "pro" } });
    await video(id, { linked: true });
    const job = await settled(id);
    const url = job.resultUrl!;
    const expires = Math.floor(job.finishedAt!.getTime() / 1000) + 24 * 3600;
    const live = await answerTo({ subcommand: "status", options: { job: job.number } });
    expect(description(live)).toContain(
      `Kling 3.0 Pro · 5 s · [download link](${url}) (expires <t:${expires}:R>)`,
    );
    // A day later the API's link is gone: said so, and not offered.
    await db()
      .update(jobs)
      .set({ finishedAt: new Date(Date.now() - 25 * 3_600_000) })
      .where(eq(jobs.id, job.id));
    const expired = await answerTo({ subcommand: "status", options: { job: job.number } });
    expect(description(expired)).toContain("Kling 3.0 Pro · 5 s · the download link has expired");
    expect(description(expired)).not.toContain(url);
    const h = await answerTo({ subcommand: "history" });
    expect(description(h)).toContain("the download link has expired");
  });

  it("numbers jobs per server from 1, a refused request takes no number, and numbers reach only their server", async () => {
    const guildId = "900000000000000661";
    const channelId = "900000000000000662";
    // Stored first, so that the bot's own record of the new server (with its default credits) does nothing.
    await ensureGuild(db(), guildId, 500);
    await stack.discord.addGuild({ id: guildId, channels: [{ id: channelId }] });
    const here = { guildId, channelId };
    const first = await send({ subcommand: "text", options: { prompt: "First here" }, ...here });
    await video(first.id);
    // 300 credits asked, 200 left: refused, and no number taken.
    const refused = await send({ subcommand: "text", options: { prompt: "Too dear" }, ...here });
    await reply(refused.id, titled("Not enough"));
    await grantCredits(db(), { guildId, amount: 1000, actorId: "test", reason: "test" });
    const second = await send({ subcommand: "text", options: { prompt: "Second here" }, ...here });
    await video(second.id);
    await settled(second.id);
    expect((await jobOf(first.id))?.number).toBe(1);
    expect(await jobOf(refused.id)).toBeUndefined();
    expect((await jobOf(second.id))?.number).toBe(2);
    expect(stack.discord.interactionState(second.id)!.original!.content).toMatch(
      /^\*\*Video #2\*\* is ready/,
    );

    // Number 1 is this server's first job here, and the test guild's own first job there.
    const mine = await answerTo({ subcommand: "status", options: { job: 1 }, ...here });
    expect(description(mine)).toContain("First here");
    const theirs = await answerTo({ subcommand: "status", options: { job: 1 } });
    expect(description(theirs)).not.toContain("First here");
    const none = await answerTo({ subcommand: "status", options: { job: 3 }, ...here });
    expect(none.original!.content).toBe("There is no video #3 in this server.");
    const cancel = await answerTo({ subcommand: "cancel", options: { job: 2 }, ...here });
    expect(cancel.original!.content).toBe("Video #2 has already ended (Done).");
  });

  it("shows progress whose numbers add up, with a share, for the first job of its type", async () => {
    stack.sim.inject({ route: "status", kind: "delay", ms: 1_200, times: 1 });
    const { id } = await send({
      subcommand: "text",
      options: { prompt: "A first of its kind", model: "o3-std" },
    });
    await video(id);
    const shown = everyWrite(stack.discord.interactionState(id)!.original!)
      .map((w) => JSON.stringify(w.body.embeds ?? ""))
      .filter((text) => text.includes("generating"));
    expect(shown.length).toBeGreaterThan(0);
    for (const text of shown) {
      // No job of this type finished yet: 30 s + 5 × 12 s expected.
      const m = /(\d+)%\\nGenerating — (\d+)s elapsed, about (?:(\d+)m )?(\d+)s left/.exec(text);
      expect(m, text).not.toBeNull();
      const elapsed = Number(m![2]);
      expect(elapsed + Number(m![3] ?? 0) * 60 + Number(m![4])).toBe(90);
      expect(Number(m![1])).toBe(Math.floor((elapsed / 90) * 100));
    }
  });

  it("keeps one guild's jobs out of another's /video status", async () => {
    const other = "900000000000000777";
    await stack.discord.addGuild({ id: other, channels: [{ id: "900000000000000778" }] });
    const { id } = await send({ subcommand: "text", options: { prompt: "Private" } });
    await video(id);
    const job = await jobOf(id);
    const status = await stack.discord.sendInteraction(
      stack.discord.chatInput({
        name: "video",
        subcommand: "status",
        options: { job: job!.number },
        userId: USER,
        guildId: other,
        channelId: "900000000000000778",
      }),
    );
    const s = await stack.discord.waitFor(
      () => stack.discord.interactionState(status.id)?.original?.content || undefined,
    );
    expect(s).toMatch(/no video/);
    const [guildRow] = await db()
      .select()
      .from(jobs)
      .where(and(eq(jobs.guildId, other)));
    expect(guildRow).toBeUndefined();
  });
});
