import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkInvariants, getBalance } from "../../src/ledger/index.js";
import { testDrivers } from "../helpers/db.js";
import { GUILD_ID, type Stack, startStack, videoText } from "./harness.js";

/**
 * Failed tasks the API charged for, from the simulator (`[fail-charged]`) to the operators' DM, through the
 * real bot: the server gets its credits back every time; the operators hear once, when three add up.
 */

const OPERATOR = "970000000000000001";

describe.each(testDrivers())("failed tasks the API charged for on %s", (driver) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ driver, env: { BOT_OWNER_IDS: OPERATOR } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** Operator notices posted so far (to any channel: a DM here). */
  const notices = () =>
    stack.discord.requests.filter(
      (r) =>
        r.method === "POST" &&
        /^\/channels\/\d+\/messages$/.test(r.path) &&
        /charged for them/.test(String((r.body as { content?: string } | undefined)?.content)),
    );

  async function failCharged(count: number) {
    const ids = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        stack.discord
          .sendInteraction(videoText(stack.discord, `A bridge ${i} [fail-charged]`))
          .then((s) => s.id),
      ),
    );
    for (const id of ids) {
      await stack.discord.waitFor(() => {
        const m = stack.discord.interactionState(id)?.original;
        return m && JSON.stringify(m.embeds).includes("returned to the server") ? m : undefined;
      }, 20_000);
    }
  }

  it("refunds the server each time and tells the operators once", async () => {
    const balance = await getBalance(stack.database.db, GUILD_ID);
    await failCharged(2);
    expect(notices()).toHaveLength(0);
    await failCharged(2);
    const [notice] = await stack.discord.waitFor(
      () => (notices().length > 0 ? notices() : undefined),
      10_000,
    );
    expect((notice!.body as { content: string }).content).toMatch(
      /^\d video tasks failed within the last hour although the Kling API charged for them \(\d[\d,]* credits in all/,
    );
    expect((notice!.body as { allowed_mentions: unknown }).allowed_mentions).toEqual({ parse: [] });
    // The same incident goes on: nobody is told again.
    await failCharged(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(notices()).toHaveLength(1);
    expect(await getBalance(stack.database.db, GUILD_ID)).toBe(balance);
    expect((await checkInvariants(stack.database.db)).ok).toBe(true);
  });
});
