import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { creditLedger, guilds } from "../../src/db/schema.js";
import { checkInvariants } from "../../src/ledger/index.js";
import { testDrivers } from "../helpers/db.js";
import { CHANNEL_ID, GUILD_ID, type Stack, startStack, USER_ID } from "./harness.js";

/**
 * Every guild the bot is in has its row and its starting credits: those it already belongs to at start
 * (discord.js emits no guildCreate for them) and those it joins later.
 */
describe.each(testDrivers())("guilds on %s", (driver) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ driver, env: { DEFAULT_GUILD_CREDITS: "777" } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function guildRow(id: string) {
    const [row] = await stack.database.db.select().from(guilds).where(eq(guilds.id, id));
    return row;
  }

  it("records a guild the bot already belonged to at start, with its starting credits", async () => {
    expect((await guildRow(GUILD_ID))?.balance).toBe(777);
    const grants = await stack.database.db
      .select()
      .from(creditLedger)
      .where(eq(creditLedger.guildId, GUILD_ID));
    expect(grants.map((g) => [g.kind, g.amount])).toEqual([["grant", 777]]);
  });

  it("shows that balance in /budget show before any job", async () => {
    const { id } = await stack.discord.sendInteraction(
      stack.discord.chatInput({
        name: "budget",
        subcommand: "show",
        userId: USER_ID,
        guildId: GUILD_ID,
        channelId: CHANNEL_ID,
      }),
    );
    const reply = await stack.discord.waitFor(() =>
      stack.discord.interactionState(id)?.original?.embeds?.length
        ? stack.discord.interactionState(id)!.original
        : undefined,
    );
    expect(JSON.stringify(reply.embeds)).toContain("777 credits");
  });

  it("records a guild joined later", async () => {
    const joined = "900000000000000777";
    await stack.discord.addGuild({ id: joined, channels: [{ id: "900000000000000778" }] });
    for (let i = 0; i < 200 && !(await guildRow(joined)); i++) await new Promise((r) => setTimeout(r, 10));
    expect((await guildRow(joined))?.balance).toBe(777);
    expect((await checkInvariants(stack.database.db)).ok).toBe(true);
  });
});
