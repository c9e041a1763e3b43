import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { creditLedger, jobs } from "../../src/db/schema.js";
import { checkInvariants, ensureGuild, getBalance, grantCredits } from "../../src/ledger/index.js";
import { type ChatInputSpec, type FakeMessage, Permission } from "../fakes/discord/index.js";
import { testDrivers } from "../helpers/db.js";
import { CHANNEL_ID, GUILD_ID, type Stack, startStack } from "./harness.js";

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

  it("/video text: defers publicly, holds, submits the exact request, attaches the video, captures", async () => {
    const before = await getBalance(db(), GUILD_ID);
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
    const done = await reply(id, (m) => m.attachments.length > 0);
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

    const job = await settled(id);
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
    await reply(id, (m) => m.attachments.length > 0);
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
    await reply(id, (m) => m.attachments.length > 0);
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
    await reply(id, (m) => m.attachments.length > 0);
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
    await reply(id, (m) => m.attachments.length > 0, 20_000);
    expect(generates().length).toBe(2);
    const job = await settled(id);
    expect(job?.state).toBe("completed");
    const created = [...stack.sim.tasks.values()].filter((t) => t.id === job?.klingTaskId);
    expect(created).toHaveLength(1);
  });

  it("edits through the channel after the interaction token expired", async () => {
    stack.sim.inject({ route: "status", kind: "delay", ms: 300, times: 1 });
    const { id, token } = await send({ subcommand: "text", options: { prompt: "A slow river" } });
    await reply(id, titled("queued"));
    stack.discord.expireToken(token);
    const done = await stack.discord.waitFor(() => {
      const m = stack.discord.interactionState(id)?.original;
      return m && m.attachments.length > 0 ? m : undefined;
    }, 15_000);
    const last = done.edits.at(-1)!;
    expect(last.route).toBe("channel");
    expect(last.path).toMatch(new RegExp(`/channels/${CHANNEL_ID}/messages/${done.id}`));
    expect(
      stack.discord
        .channelMessages(CHANNEL_ID)
        .filter((m) => m.interactionId !== id && m.createdWith.route === "channel"),
    ).toHaveLength(0);
  });

  it("posts a new message that pings only the requester when the reply cannot be edited", async () => {
    stack.sim.inject({ route: "status", kind: "delay", ms: 300, times: 1 });
    const { id, token } = await send({ subcommand: "text", options: { prompt: "@everyone a parade" } });
    await reply(id, titled("queued"));
    stack.discord.expireToken(token);
    stack.discord.inject({
      method: "PATCH",
      path: /^\/channels\/\d+\/messages\/\d+$/,
      status: 403,
      code: 50001,
      count: 10,
    });
    const posted = await stack.discord.waitFor(
      () =>
        stack.discord
          .channelMessages(CHANNEL_ID)
          .find((m) => m.createdWith.route === "channel" && m.content.includes("your video")),
      15_000,
    );
    expect(posted.pings).toEqual({ everyone: false, users: [USER], roles: [] });
    expect(posted.allowed_mentions).toEqual({ parse: [], users: [USER] });
    expect(posted.attachments).toHaveLength(1);
    expect(posted.nonce).toBeDefined();
  });

  it("rides out a Discord 429 on an edit and delivers once", async () => {
    stack.discord.inject({ method: "PATCH", path: /^\/webhooks\//, status: 429, retryAfter: 0.2, count: 1 });
    const { id } = await send({ subcommand: "text", options: { prompt: "A meadow" } });
    const done = await reply(id, (m) => m.attachments.length > 0);
    expect(done.attachments).toHaveLength(1);
    const uploads = everyWrite(done).filter((w) => w.files.length > 0);
    expect(uploads).toHaveLength(1);
  });

  it("pings nobody for a prompt full of mentions, and shows them inert", async () => {
    const prompt = "@everyone @here <@&900000000000000055> <@900000000000000056> dance";
    const { id } = await send({ subcommand: "text", options: { prompt } });
    const done = await reply(id, (m) => m.attachments.length > 0);
    for (const write of everyWrite(done).slice(1)) {
      expect(write.body.allowed_mentions).toEqual({ parse: [], users: [] });
    }
    expect(done.pings).toEqual({ everyone: false, users: [], roles: [] });
    const text = JSON.stringify(done.embeds);
    expect(text).not.toMatch(/@everyone|@here|<@&\d+>|<@9000+56>/);
    expect(generates()[0]!.body).toMatchObject({ prompt });
  });

  it("links a video larger than the upload limit and says why", async () => {
    stack.sim.setVideoBytes(11 * 1024 * 1024);
    const { id } = await send({ subcommand: "text", options: { prompt: "A long take" } });
    const done = await reply(id, titled("larger than"));
    expect(done.attachments).toHaveLength(0);
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
    const done = await reply(id, titled("refused the file"));
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
    await reply(id, (m) => m.attachments.length > 0);
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
    await reply(id, (m) => m.attachments.length > 0);
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

  it("/video status, /video history and /budget show answer ephemerally", async () => {
    const { id } = await send({ subcommand: "text", options: { prompt: "For the records" } });
    await reply(id, (m) => m.attachments.length > 0);
    const job = await jobOf(id);

    const status = await send({ subcommand: "status", options: { job: job!.id } });
    const s = await stack.discord.waitFor(() =>
      stack.discord.interactionState(status.id)?.original?.embeds.length
        ? stack.discord.interactionState(status.id)
        : undefined,
    );
    expect((s.callbackFlags ?? 0) & 64).toBe(64);
    expect(JSON.stringify(s.original!.embeds)).toContain(`#${job!.id}`);

    const history = await send({ subcommand: "history" });
    const h = await stack.discord.waitFor(() =>
      stack.discord.interactionState(history.id)?.original?.embeds.length
        ? stack.discord.interactionState(history.id)
        : undefined,
    );
    expect(JSON.stringify(h.original!.embeds)).toContain("For the records");

    const budget = await stack.discord.sendInteraction(
      stack.discord.chatInput({
        name: "budget",
        subcommand: "show",
        userId: USER,
        guildId: GUILD_ID,
        channelId: CHANNEL_ID,
      }),
    );
    const b = await stack.discord.waitFor(() =>
      stack.discord.interactionState(budget.id)?.original?.embeds.length
        ? stack.discord.interactionState(budget.id)
        : undefined,
    );
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
    expect(a.length).toBeGreaterThan(0);
    expect(JSON.stringify(a)).toContain(`"value":${job!.id}`);
  });

  it("keeps one guild's jobs out of another's /video status", async () => {
    const other = "900000000000000777";
    await stack.discord.addGuild({ id: other, channels: [{ id: "900000000000000778" }] });
    const { id } = await send({ subcommand: "text", options: { prompt: "Private" } });
    await reply(id, (m) => m.attachments.length > 0);
    const job = await jobOf(id);
    const status = await stack.discord.sendInteraction(
      stack.discord.chatInput({
        name: "video",
        subcommand: "status",
        options: { job: job!.id },
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
