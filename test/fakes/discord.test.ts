import {
  type ChatInputCommandInteraction,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  type Interaction,
  MessageFlags,
  REST,
  Routes,
} from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeDiscord, MessageFlag, startFakeDiscord } from "./discord/index.js";

/**
 * The fake Discord against the real discord.js client, with no bot code: login and guild cache, the
 * deferred reply with a file, token expiry and the channel fallback, rate limits, nonces, commands.
 */

const GUILD = "900000000000000001";
const CHANNEL = "900000000000000002";
const USER = "900000000000000099";
const PNG = { filename: "start.png", content_type: "image/png", size: 2048 };

let fake: FakeDiscord;
let client: Client;
/** The fake's clock runs this far ahead of the real one (token lifetimes, nonce windows). */
let clockOffsetMs = 0;

beforeAll(async () => {
  fake = await startFakeDiscord({
    guilds: [{ id: GUILD, name: "Videos", channels: [{ id: CHANNEL, name: "videos" }] }],
    now: () => Date.now() + clockOffsetMs,
  });
  client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: fake.apiUrl },
    allowedMentions: { parse: [] },
  });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(fake.token);
  await ready;
});

afterAll(async () => {
  await client?.destroy();
  await fake?.close();
});

/** Runs `fn` on the next interaction the client receives and resolves with its result. */
function nextInteraction<T>(fn: (i: Interaction) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    client.once(Events.InteractionCreate, (i) => {
      fn(i).then(resolve, reject);
    });
  });
}

function asCommand(i: Interaction): ChatInputCommandInteraction {
  if (!i.isChatInputCommand()) throw new Error(`expected a chat input command, got type ${i.type}`);
  return i;
}

/** Sends a /video text command and defers it in the client; resolves with the live interaction. */
async function deferredCommand(flags?: MessageFlags.Ephemeral) {
  const handled = nextInteraction(async (i) => {
    const command = asCommand(i);
    await command.deferReply(flags ? { flags } : {});
    return command;
  });
  const sent = await fake.sendInteraction(
    fake.chatInput({ name: "video", subcommand: "text", options: { prompt: "a cat" }, userId: USER }),
  );
  return { ...sent, interaction: await handled };
}

async function apiError(promise: Promise<unknown>): Promise<DiscordAPIError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof DiscordAPIError)) throw new Error(`expected a DiscordAPIError, got ${String(err)}`);
  return err;
}

describe("fake Discord with the real discord.js client", () => {
  it("logs in: READY, the guild and its channel cached, the bot as a member", () => {
    expect(client.user?.id).toBe(fake.botUserId);
    expect(client.application?.id).toBe(fake.applicationId);
    const guild = client.guilds.cache.get(GUILD);
    expect(guild?.name).toBe("Videos");
    expect(guild?.channels.cache.get(CHANNEL)?.isTextBased()).toBe(true);
    expect(guild?.members.me?.id).toBe(fake.botUserId);
    expect(fake.gateway.identifies.map((i) => i.intents)).toEqual([GatewayIntentBits.Guilds]);
    expect(fake.requests.find((r) => r.path === "/gateway/bot")?.auth).toBe("bot");
  });

  it("delivers a subcommand with an attachment; records the defer, the file bytes and allowed_mentions", async () => {
    const clip = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypmp42"), Buffer.alloc(64, 7)]);
    const handled = nextInteraction(async (i) => {
      const command = asCommand(i);
      const seen = {
        subcommand: command.options.getSubcommand(),
        prompt: command.options.getString("prompt"),
        duration: command.options.getInteger("duration"),
        image: command.options.getAttachment("image"),
        appPermissions: command.appPermissions.has("AttachFiles"),
        sizeLimit: command.attachmentSizeLimit,
        inGuild: command.inCachedGuild(),
        channelCached: command.channel?.id,
      };
      await command.deferReply();
      await command.editReply({
        content: "Here is your clip",
        files: [{ attachment: clip, name: "clip.mp4" }],
        allowedMentions: { parse: [] },
      });
      return seen;
    });
    const { id } = await fake.sendInteraction(
      fake.chatInput({
        name: "video",
        subcommand: "text",
        options: { prompt: "A cat on a skateboard", duration: 5 },
        attachments: { image: PNG },
        userId: USER,
        guildId: GUILD,
        channelId: CHANNEL,
        attachmentSizeLimit: 25 * 1024 * 1024,
      }),
    );
    const seen = await handled;

    expect(seen).toMatchObject({
      subcommand: "text",
      prompt: "A cat on a skateboard",
      duration: 5,
      appPermissions: true,
      sizeLimit: 25 * 1024 * 1024,
      inGuild: true,
      channelCached: CHANNEL,
    });
    expect(seen.image?.name).toBe("start.png");
    expect(seen.image?.url).toMatch(
      /^https:\/\/cdn\.discordapp\.com\/ephemeral-attachments\/.+\/start\.png\?ex=/,
    );

    const state = fake.interactionState(id)!;
    expect(state.callbackType).toBe(5);
    expect(state.callbackFlags).toBe(0);
    expect(fake.callbackLatencyMs(id)).toBeGreaterThanOrEqual(0);
    const original = state.original!;
    expect(original.content).toBe("Here is your clip");
    expect(original.flags & MessageFlag.Loading).toBe(0);
    expect(original.attachments).toHaveLength(1);
    expect(original.attachments[0]!.filename).toBe("clip.mp4");
    expect(original.attachments[0]!.data.equals(clip)).toBe(true);
    expect(original.allowed_mentions).toEqual({ parse: [] });
    expect(original.edits).toHaveLength(1);

    const patch = fake.requests.find((r) => r.method === "PATCH" && r.path.endsWith("/messages/@original"))!;
    expect(patch.auth).toBe("none");
    expect(patch.multipart?.files.map((f) => f.field)).toEqual(["files[0]"]);
    expect(patch.multipart?.files[0]?.data.equals(clip)).toBe(true);
    expect(fake.channelMessages(CHANNEL).map((m) => m.id)).toContain(original.id);
  });

  it("answers an expired token with 401 50027; the channel endpoint still edits a public reply", async () => {
    const { id, token, interaction } = await deferredCommand();
    const messageId = (await interaction.fetchReply()).id;
    expect(messageId).toBe(fake.interactionState(id)!.original!.id);

    // A worker without a gateway edits through a bare REST with the interaction token.
    const rest = new REST({ api: fake.apiUrl }).setToken(fake.token);
    await rest.patch(Routes.webhookMessage(fake.applicationId, token, "@original"), {
      body: { content: "50%", allowed_mentions: { parse: [] } },
      auth: false,
    });
    expect(fake.interactionState(id)!.original!.content).toBe("50%");

    fake.expireToken(token);
    const err = await apiError(interaction.editReply({ content: "done" }));
    expect(err.status).toBe(401);
    expect(err.code).toBe(50027);

    await client.rest.patch(Routes.channelMessage(CHANNEL, messageId), {
      body: { content: "done (via channel)", allowed_mentions: { parse: [] } },
    });
    const original = fake.interactionState(id)!.original!;
    expect(original.content).toBe("done (via channel)");
    expect(original.edits.map((e) => e.route)).toEqual(["webhook", "channel"]);

    fake.expireToken(token, "unknown-webhook");
    const gone = await apiError(
      rest.patch(Routes.webhookMessage(fake.applicationId, token, "@original"), {
        body: { content: "x" },
        auth: false,
      }),
    );
    expect([gone.status, gone.code]).toEqual([404, 10015]);
  });

  it("expires interaction tokens 15 minutes after the interaction by the fake's clock", async () => {
    const { id, interaction } = await deferredCommand();
    await interaction.editReply({ content: "still fresh" });
    clockOffsetMs = 15 * 60_000;
    try {
      const err = await apiError(interaction.editReply({ content: "too late" }));
      expect([err.status, err.code]).toEqual([401, 50027]);
    } finally {
      clockOffsetMs = 0;
    }
    expect(fake.interactionState(id)!.original!.content).toBe("still fresh");
  });

  it("does not let the channel endpoint see an ephemeral reply", async () => {
    const { id, interaction } = await deferredCommand(MessageFlags.Ephemeral);
    expect(fake.interactionState(id)!.callbackFlags).toBe(MessageFlag.Ephemeral);
    await interaction.editReply({ content: "only you" });
    const original = fake.interactionState(id)!.original!;
    expect(original.ephemeral).toBe(true);
    const err = await apiError(
      client.rest.patch(Routes.channelMessage(CHANNEL, original.id), { body: { content: "x" } }),
    );
    expect([err.status, err.code]).toEqual([404, 10008]);
    expect(fake.channelMessages(CHANNEL).some((m) => m.id === original.id)).toBe(false);
  });

  it("refuses a file above the interaction's attachment_size_limit with 413 40005", async () => {
    const handled = nextInteraction(async (i) => {
      const command = asCommand(i);
      await command.deferReply();
      return command;
    });
    const { id } = await fake.sendInteraction(
      fake.chatInput({
        name: "video",
        subcommand: "text",
        options: { prompt: "p" },
        attachmentSizeLimit: 1_000,
      }),
    );
    const interaction = await handled;
    const err = await apiError(
      interaction.editReply({ files: [{ attachment: Buffer.alloc(1_001), name: "clip.mp4" }] }),
    );
    expect([err.status, err.code]).toEqual([413, 40005]);
    expect(fake.interactionState(id)!.original!.edits).toHaveLength(0);
  });

  it("a follow-up right after a defer edits the loading message; later ones are new messages", async () => {
    const { id, interaction } = await deferredCommand(MessageFlags.Ephemeral);
    await interaction.followUp({ content: "first" });
    await interaction.followUp({ content: "second" });
    const state = fake.interactionState(id)!;
    expect(state.original!.content).toBe("first");
    expect(state.original!.ephemeral).toBe(true);
    expect(state.followUps.map((m) => m.content)).toEqual(["second"]);
  });

  it("answers reply({ withResponse }) with the documented callback response, in a DM too", async () => {
    const handled = nextInteraction(async (i) => {
      const command = asCommand(i);
      const response = await command.reply({
        content: "Invalid duration",
        files: [{ attachment: Buffer.from("note"), name: "why.txt" }],
        flags: MessageFlags.Ephemeral,
        withResponse: true,
      });
      return { response, inGuild: command.inGuild(), channelId: command.channelId };
    });
    const payload = fake.chatInput({
      name: "video",
      subcommand: "text",
      options: { prompt: "p" },
      guildId: null,
    });
    expect(payload).toMatchObject({ context: 1, user: { id: expect.any(String) } });
    expect("member" in payload).toBe(false);
    const { id } = await fake.sendInteraction(payload);
    const { response, inGuild, channelId } = await handled;

    const state = fake.interactionState(id)!;
    expect([state.callbackType, state.callbackFlags]).toEqual([4, MessageFlag.Ephemeral]);
    expect(inGuild).toBe(false);
    // Without Partials.Channel discord.js does not cache a DM channel; the id still comes through.
    expect(channelId).toBe(payload.channel_id);
    expect(payload.channel).toMatchObject({ type: 1 });
    expect(response.interaction.responseMessageId).toBe(state.original!.id);
    expect(response.interaction.responseMessageEphemeral).toBe(true);
    expect(response.resource?.message?.content).toBe("Invalid duration");
    expect(state.original!.attachments.map((a) => [a.filename, a.data.toString()])).toEqual([
      ["why.txt", "note"],
    ]);
  });

  it("delays a route on request and lets a test wait for a request", async () => {
    const { interaction } = await deferredCommand();
    const mark = fake.mark();
    fake.inject({ method: "PATCH", path: /\/messages\/@original$/, delayMs: 60 });
    const editing = interaction.editReply({ content: "slow" });
    const seen = await fake.waitForRequest({ method: "PATCH", path: /@original$/ }, { since: mark });
    await editing;
    expect(seen.status).toBe(200);
    expect(seen.durationMs).toBeGreaterThanOrEqual(55);
  });

  it("lets discord.js resume after the gateway drops, then delivers interactions again", async () => {
    const resumed = new Promise<void>((resolve) => client.once(Events.ShardResume, () => resolve()));
    fake.gateway.disconnect(4000);
    await resumed;
    expect(fake.gateway.received.some((p) => p.op === 6)).toBe(true);
    expect(fake.gateway.identifies).toHaveLength(1);
    const { id } = await deferredCommand();
    expect(fake.interactionState(id)!.callbackType).toBe(5);
  });

  it("a 429 is retried by discord.js after Retry-After and the edit lands once", async () => {
    const { id, interaction } = await deferredCommand();
    const mark = fake.mark();
    const fault = fake.inject({
      method: "PATCH",
      path: /\/messages\/@original$/,
      status: 429,
      retryAfter: 0.2,
    });
    await interaction.editReply({ content: "after the limit" });

    const patches = fake.requests.slice(mark).filter((r) => r.method === "PATCH");
    expect(patches.map((r) => r.status)).toEqual([429, 200]);
    expect(patches[0]!.response).toEqual({
      message: "You are being rate limited.",
      retry_after: 0.2,
      global: false,
    });
    // discord.js waited for the announced 0.2 s before retrying (a lower bound, not a speed target).
    expect(patches[1]!.at - patches[0]!.at).toBeGreaterThanOrEqual(150);
    expect(fault.hits).toBe(1);
    expect(fake.interactionState(id)!.original!.edits).toHaveLength(1);
  });

  it("honours nonce + enforce_nonce on channel posts, also when a 500 made discord.js retry", async () => {
    const post = (nonce: string, enforce = true) =>
      client.rest.post(Routes.channelMessages(CHANNEL), {
        body: { content: `job ${nonce}`, nonce, enforce_nonce: enforce, allowed_mentions: { parse: [] } },
      }) as Promise<{ id: string }>;
    const before = fake.channelMessages(CHANNEL).length;
    const a = await post("kling-job-1");
    const again = await post("kling-job-1");
    expect(again.id).toBe(a.id);
    expect((await post("kling-job-2")).id).not.toBe(a.id);
    expect((await post("kling-job-1", false)).id).not.toBe(a.id);
    expect(fake.channelMessages(CHANNEL).length - before).toBe(3);

    // The message is created, the answer is lost (500): the retry must not post it twice.
    fake.inject({ method: "POST", path: `/channels/${CHANNEL}/messages`, status: 500, processFirst: true });
    const mark = fake.mark();
    const b = await post("kling-job-3");
    const tries = fake.requests.slice(mark).filter((r) => r.method === "POST");
    expect(tries.map((r) => r.status)).toEqual([500, 200]);
    expect(
      fake
        .channelMessages(CHANNEL)
        .filter((m) => m.nonce === "kling-job-3")
        .map((m) => m.id),
    ).toEqual([b.id]);

    const tooLong = await apiError(post("x".repeat(26)));
    expect([tooLong.status, tooLong.code]).toEqual([400, 50035]);
  });

  it("records pings: no allowed_mentions on a channel post parses @everyone; parse: [] does not", async () => {
    const plain = (await client.rest.post(Routes.channelMessages(CHANNEL), {
      body: { content: "@everyone look" },
    })) as { id: string; mention_everyone: boolean };
    expect(plain.mention_everyone).toBe(true);
    const channel = client.channels.cache.get(CHANNEL);
    if (!channel?.isSendable()) throw new Error("the channel is not cached as sendable");
    const safe = await channel.send({ content: `@everyone and <@${USER}>` });
    const stored = fake.message(safe.id)!;
    expect(stored.allowed_mentions).toEqual({ parse: [] });
    expect(stored.pings).toEqual({ everyone: false, users: [], roles: [] });

    const bad = await apiError(
      client.rest.post(Routes.channelMessages(CHANNEL), {
        body: { content: "hi", allowed_mentions: { parse: ["users"], users: [USER] } },
      }),
    );
    expect(bad.code).toBe(50035);
    const empty = await apiError(
      client.rest.post(Routes.channelMessages(CHANNEL), { body: { content: "" } }),
    );
    expect(empty.code).toBe(50006);
  });

  it("opens a DM with POST /users/@me/channels, the same channel each time, and posts in it", async () => {
    const owner = "900000000000000777";
    const opened = (await client.rest.post(Routes.userChannels(), { body: { recipient_id: owner } })) as {
      id: string;
      type: number;
      recipients: { id: string }[];
    };
    expect(opened).toMatchObject({ type: 1, recipients: [{ id: owner }] });
    const again = (await client.rest.post(Routes.userChannels(), { body: { recipient_id: owner } })) as {
      id: string;
    };
    expect(again.id).toBe(opened.id);
    const other = (await client.rest.post(Routes.userChannels(), {
      body: { recipient_id: "900000000000000778" },
    })) as { id: string };
    expect(other.id).not.toBe(opened.id);

    const posted = (await client.rest.post(Routes.channelMessages(opened.id), {
      body: { content: "the API account is empty", allowed_mentions: { parse: [] } },
    })) as { id: string; channel_id: string };
    expect(posted.channel_id).toBe(opened.id);
    expect(fake.channelMessages(opened.id).map((m) => m.content)).toEqual(["the API account is empty"]);

    const bad = await apiError(client.rest.post(Routes.userChannels(), { body: { recipient_id: "me" } }));
    expect([bad.status, bad.code]).toEqual([400, 50035]);
    const self = await apiError(
      client.rest.post(Routes.userChannels(), { body: { recipient_id: fake.botUserId } }),
    );
    expect([self.status, self.code]).toEqual([400, 50007]);
  });

  it("stores registered commands, types options from them, and answers autocomplete", async () => {
    const route = Routes.applicationGuildCommands(fake.applicationId, GUILD);
    const body = [
      {
        name: "video",
        description: "Make a video",
        options: [
          {
            type: 1,
            name: "text",
            description: "From text",
            options: [
              { type: 3, name: "prompt", description: "What to show", required: true },
              { type: 10, name: "cfg", description: "Guidance" },
              { type: 3, name: "model", description: "Model", autocomplete: true },
            ],
          },
        ],
      },
    ];
    const stored = (await client.rest.put(route, { body })) as { id: string; name: string }[];
    expect(stored.map((c) => c.name)).toEqual(["video"]);
    expect(await client.rest.get(route)).toEqual(stored);
    expect(fake.registeredCommands(GUILD)[0]!.id).toBe(stored[0]!.id);

    const payload = fake.chatInput({ name: "video", subcommand: "text", options: { prompt: "p", cfg: 1 } });
    expect(payload.data.id).toBe(stored[0]!.id);
    const sub = payload.data.options![0] as { options: { name: string; type: number }[] };
    expect(sub.options.find((o) => o.name === "cfg")?.type).toBe(10);

    const handled = nextInteraction(async (i) => {
      if (!i.isAutocomplete()) throw new Error("expected autocomplete");
      const focused = i.options.getFocused(true);
      await i.respond([{ name: `Kling ${focused.value}`, value: "pro" }]);
      return focused.name;
    });
    const { id } = await fake.sendInteraction(
      fake.autocomplete({
        name: "video",
        subcommand: "text",
        options: { prompt: "p", model: "pr" },
        focused: "model",
      }),
    );
    expect(await handled).toBe("model");
    expect(fake.interactionState(id)!.callbackType).toBe(8);
    expect(fake.interactionState(id)!.autocompleteChoices).toEqual([{ name: "Kling pr", value: "pro" }]);

    const invalid = await apiError(
      client.rest.put(route, {
        body: [
          {
            name: "bad",
            description: "Optional before required",
            options: [
              { type: 3, name: "a", description: "a" },
              { type: 3, name: "b", description: "b", required: true },
            ],
          },
        ],
      }),
    );
    expect(invalid.code).toBe(50035);
  });

  it("delivers a message context menu on a member's message; a reply pings its author unless told not to", async () => {
    const route = Routes.applicationGuildCommands(fake.applicationId, GUILD);
    const menu = (await client.rest.post(route, {
      body: { type: 3, name: "Animate with Kling", name_localizations: { ja: "Klingで動かす" } },
    })) as { id: string };
    const spaced = await apiError(
      client.rest.post(route, { body: { name: "two words", description: "A slash command" } }),
    );
    expect(spaced.code).toBe(50035);

    const photo = fake.postAsMember(CHANNEL, {
      userId: USER,
      content: "look",
      attachments: [{ filename: "a.png", content_type: "image/png", size: 8 }],
    });
    expect(photo.attachments[0]!.url).toMatch(/^https:\/\/cdn\.discordapp\.com\/attachments\//);
    const payload = fake.messageMenu({
      name: "Animate with Kling",
      message: fake.apiMessage(photo),
      userId: USER,
    });
    expect((payload.data as { id: string }).id).toBe(menu.id);
    const handled = nextInteraction(async (i) => {
      if (!i.isMessageContextMenuCommand()) throw new Error(`expected a message menu, got type ${i.type}`);
      return {
        name: i.commandName,
        target: i.targetMessage.id,
        file: i.targetMessage.attachments.first()?.name,
      };
    });
    await fake.sendInteraction(payload);
    expect(await handled).toEqual({ name: "Animate with Kling", target: photo.id, file: "a.png" });

    const reply = (body: Record<string, unknown>) =>
      client.rest.post(Routes.channelMessages(CHANNEL), {
        body: { content: "a reply", message_reference: { message_id: photo.id }, ...body },
      }) as Promise<{ id: string }>;
    const loud = await reply({});
    expect(fake.message(loud.id)!.pingedRepliedUser).toBe(USER);
    const quiet = await reply({ allowed_mentions: { parse: [], replied_user: false } });
    expect(fake.message(quiet.id)!.pingedRepliedUser).toBeUndefined();
    expect(fake.message(quiet.id)!.pings.users).toEqual([]);
  });

  it("rejects a wrong bot token and explains a wait that timed out", async () => {
    const rest = new REST({ api: fake.apiUrl }).setToken("not-the-token");
    const err = await apiError(rest.get(Routes.user("@me")));
    expect([err.status, err.code, err.message]).toEqual([401, 0, "401: Unauthorized"]);
    await expect(fake.waitFor(() => false, 20)).rejects.toThrow(
      /timed out after 20 ms[\s\S]*GET \/users\/@me → 401/,
    );
  });
});
