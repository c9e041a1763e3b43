import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getBalance, checkInvariants } from "../../src/ledger/ledger.js";
import { creditLedger, jobs } from "../../src/db/schema.js";
import { eq } from "drizzle-orm";
import { testDrivers } from "../helpers/db.js";
import { CHANNEL_ID, GUILD_ID, SIM_KEY, type Stack, startStack } from "./harness.js";

const USER = "900000000000000099";
const png = (name: string, size = 2048) => ({ filename: name, content_type: "image/png", size });
const mp4 = (name: string, size = 4096) => ({ filename: name, content_type: "video/mp4", size });

describe.each(testDrivers())("/video end to end on %s", (driver) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ driver });
  });
  afterAll(async () => {
    await stack?.close();
  });
  afterEach(() => {
    stack.sim.clearFaults();
  });

  async function run(options: Parameters<Stack["discord"]["chatInput"]>[0]) {
    const interaction = stack.discord.chatInput({ userId: USER, guildId: GUILD_ID, channelId: CHANNEL_ID, ...options });
    const sent = await stack.discord.sendInteraction(interaction);
    return sent;
  }

  async function finalMessage(interactionId: string, predicate: (m: any) => boolean, timeoutMs = 15_000) {
    return stack.discord.waitFor(() => {
      const state = stack.discord.interactionState(interactionId);
      const original = state?.original;
      return original && predicate(original) ? original : undefined;
    }, timeoutMs);
  }

  it("/video text: defers, holds, submits the exact request, and attaches the video", async () => {
    const before = await getBalance(stack.database.db, GUILD_ID);
    const { id } = await run({
      name: "video",
      subcommand: "text",
      options: { prompt: "A cat on a skateboard", model: "pro", duration: 5, aspect_ratio: "9:16", sound: true },
    });
    const done = await finalMessage(id, (m) => m.attachments?.length > 0);
    const state = stack.discord.interactionState(id)!;
    expect(state.callbackType).toBe(5);
    expect(state.callbackFlags ?? 0).toBe(0);

    const generate = stack.sim.requests.filter((r) => r.path === "/api/generate");
    const body = generate.at(-1)!.body;
    expect(body).toEqual({
      type: "pro-text-to-video",
      prompt: "A cat on a skateboard",
      duration: 5,
      aspect_ratio: "9:16",
      sound: true,
    });
    expect(done.attachments[0].filename).toMatch(/\.mp4$/);
    const bytes: Buffer = done.attachments[0].data;
    expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
    expect(JSON.stringify(done.embeds)).toContain("400 credits");

    const after = await getBalance(stack.database.db, GUILD_ID);
    expect(before - after).toBe(400);
    expect((await checkInvariants(stack.database.db, GUILD_ID)).ok).toBe(true);
  });
});
