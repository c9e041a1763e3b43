import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guilds } from "../../src/db/schema.js";
import { testDrivers } from "../helpers/db.js";
import { CHANNEL_ID, GUILD_ID, type Stack, startStack, USER_ID } from "./harness.js";

/**
 * `ALLOWED_GUILD_IDS` through the real discord.js client: the bot leaves every other server, those it is in
 * at start and those it joins later, after a short message in the server's language where it may write;
 * it never records them, and until it has left, nothing there is served.
 */

const LISTED_LATER = "950000000000000101";
const JAPANESE = "950000000000000201";
const JAPANESE_VOICE = "950000000000000202";
const JAPANESE_TEXT = "950000000000000203";
const MUTE = "950000000000000301";
const MUTE_TEXT = "950000000000000302";
const JOINED = "950000000000000401";
const JOINED_TEXT = "950000000000000402";
const STUCK = "950000000000000501";
const STUCK_TEXT = "950000000000000502";
/** The bot may see channels but not send: View Channel only. */
const VIEW_ONLY = String(1 << 10);

describe.each(testDrivers())("ALLOWED_GUILD_IDS on %s", (driver) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      driver,
      env: { ALLOWED_GUILD_IDS: `${GUILD_ID},${LISTED_LATER}` },
      guilds: [
        {
          id: JAPANESE,
          locale: "ja",
          channels: [
            { id: JAPANESE_VOICE, type: 2 },
            { id: JAPANESE_TEXT, name: "雑談" },
          ],
        },
        {
          id: MUTE,
          channels: [{ id: MUTE_TEXT }],
          botPermissions: VIEW_ONLY,
          everyonePermissions: VIEW_ONLY,
        },
      ],
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const requests = (method: string, path: string) =>
    stack.discord.requests.filter((r) => r.method === method && r.path === path);
  const left = (guildId: string) => requests("DELETE", `/users/@me/guilds/${guildId}`);
  const posts = (channelId: string) => requests("POST", `/channels/${channelId}/messages`);
  async function recorded(guildId: string) {
    const [row] = await stack.database.db.select().from(guilds).where(eq(guilds.id, guildId));
    return row !== undefined;
  }

  it("leaves the servers it is in at start that are not listed: says why where it may write, then leaves", async () => {
    // The bot has started: it has left already.
    expect(left(JAPANESE)).toHaveLength(1);
    expect(left(MUTE)).toHaveLength(1);
    expect(left(GUILD_ID)).toHaveLength(0);
    // One message, in the server's language, in its first text channel, pinging nobody, before leaving.
    const [said] = posts(JAPANESE_TEXT);
    expect(said?.seq).toBeLessThan(left(JAPANESE)[0]!.seq);
    const message = stack.discord.channelMessages(JAPANESE_TEXT);
    expect(message).toHaveLength(1);
    expect(message[0]!.content).toMatch(/このボットは運営者が許可したサーバーでだけ動作します/);
    expect(message[0]!.allowed_mentions).toEqual({ parse: [], users: [] });
    expect(message[0]!.pings).toEqual({ everyone: false, users: [], roles: [] });
    // Where it may not send, it does not try.
    expect(posts(MUTE_TEXT)).toHaveLength(0);
    expect(await recorded(JAPANESE)).toBe(false);
    expect(await recorded(MUTE)).toBe(false);
    expect(await recorded(GUILD_ID)).toBe(true);
    expect(stack.bot.client!.guilds.cache.has(JAPANESE)).toBe(false);
  });

  it("leaves a server it joins later that is not listed, and stays in one that is", async () => {
    await stack.discord.addGuild({ id: JOINED, channels: [{ id: JOINED_TEXT }] });
    await stack.discord.waitForRequest({ method: "DELETE", path: `/users/@me/guilds/${JOINED}` });
    expect(stack.discord.channelMessages(JOINED_TEXT).map((m) => m.content)).toEqual([
      expect.stringMatching(/^Hello! This bot only works in the servers its operator has allowed/),
    ]);
    expect(await recorded(JOINED)).toBe(false);

    await stack.discord.addGuild({ id: LISTED_LATER, channels: [{ id: "950000000000000102" }] });
    for (let i = 0; i < 500 && !(await recorded(LISTED_LATER)); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(await recorded(LISTED_LATER)).toBe(true);
    expect(left(LISTED_LATER)).toHaveLength(0);
  });

  it("serves nothing in a server it could not leave, and records nothing", async () => {
    // Discord refuses the leave (say, a passing fault): the server stays, but nothing there is served.
    stack.discord.inject({ method: "DELETE", path: `/users/@me/guilds/${STUCK}`, status: 403, count: 1 });
    await stack.discord.addGuild({ id: STUCK, channels: [{ id: STUCK_TEXT }] });
    await stack.discord.waitForRequest({ method: "DELETE", path: `/users/@me/guilds/${STUCK}` });
    const { id } = await stack.discord.sendInteraction(
      stack.discord.chatInput({
        name: "budget",
        subcommand: "show",
        userId: USER_ID,
        guildId: STUCK,
        channelId: STUCK_TEXT,
        locale: "en-US",
      }),
    );
    const answer = await stack.discord.waitFor(() => stack.discord.interactionState(id)?.original);
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toBe(
      "This bot does not work in this server. Ask the bot's operator if you expected it to.",
    );
    expect(await recorded(STUCK)).toBe(false);
    // The listed server is served as before.
    const { id: ok } = await stack.discord.sendInteraction(
      stack.discord.chatInput({
        name: "budget",
        subcommand: "show",
        userId: USER_ID,
        guildId: GUILD_ID,
        channelId: CHANNEL_ID,
      }),
    );
    const shown = await stack.discord.waitFor(() => {
      const m = stack.discord.interactionState(ok)?.original;
      return m?.embeds.length ? m : undefined;
    });
    expect(JSON.stringify(shown.embeds)).toContain("Balance");
  });
});
