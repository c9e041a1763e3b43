import type { APIEmbed } from "discord.js";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobs } from "../../src/db/schema.js";
import { t } from "../../src/i18n/index.js";
import { ensureGuild, getBalance, grantCredits } from "../../src/ledger/index.js";
import type { OptionValue } from "../fakes/discord/builders.js";
import type { FakeMessage } from "../fakes/discord/index.js";
import { testDrivers } from "../helpers/db.js";
import { CHANNEL_ID, GUILD_ID, type Stack, startStack, waitForVideo } from "./harness.js";

/**
 * A member whose Discord is in Japanese reads Japanese on every path, and one in English reads English:
 * refusals, a shortfall, queued, progress, the video, a failure with its refund, status, history and budget.
 * Messages that outlive the interaction keep the requester's language.
 */

const POOR_GUILD = "900000000000000501";
const POOR_CHANNEL = "900000000000000502";

/** Everything a member reads in a message. */
function words(m: FakeMessage | undefined): string {
  if (!m) return "";
  const parts = [m.content];
  for (const e of m.embeds as APIEmbed[]) {
    parts.push(e.title ?? "", e.description ?? "");
    for (const f of e.fields ?? []) parts.push(f.name, f.value);
  }
  return parts.join("\n");
}

/**
 * English prose left in a text: three or more English words in a row, once what may stay as it is has been
 * taken out (option names in backticks, links, mentions, timestamps, model names, and the video service's
 * own words, which are quoted).
 */
function englishProse(text: string): string[] {
  const stripped = text
    .replace(/`[^`]*`/g, " ")
    .replace(/\]\([^)]*\)/g, "] ")
    .replace(/https?:\/\/\S+/g, " ")
    .replace(/<[@#][^>]*>|<t:\d+:\w>/g, " ")
    .replace(/「[^」]*」|“[^”]*”/g, " ")
    .replace(/Kling (3\.0|O3) (Pro|Standard)/g, " ")
    .replace(/\b(MiB|Pro|Standard|Discord|Kling)\b/g, " ");
  return stripped.match(/[A-Za-z]{2,}(?:[\s,]+[A-Za-z]{2,}){2,}/g) ?? [];
}

const JAPANESE = /[\u3040-\u30ff\u4e00-\u9faf]/;

describe.each(testDrivers())("the bot's languages on %s", (driver) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ driver, env: { PROGRESS_INTERVAL_MS: "0" } });
    await ensureGuild(stack.database.db, GUILD_ID, 1_000_000);
    await stack.discord.addGuild({ id: POOR_GUILD, channels: [{ id: POOR_CHANNEL }] });
    // The bot records a guild it joins with its starting credits; this one is left with 10.
    await ensureGuild(stack.database.db, POOR_GUILD, 10);
    const balance = await getBalance(stack.database.db, POOR_GUILD);
    if (balance > 10) {
      await grantCredits(stack.database.db, {
        guildId: POOR_GUILD,
        amount: 10 - balance,
        actorId: "test",
        reason: "poor",
      });
    }
  });
  afterAll(async () => {
    await stack?.close();
  });

  for (const [locale, lang] of [
    ["ja", "ja"],
    ["en-US", "en"],
  ] as const) {
    const user = locale === "ja" ? "900000000000000301" : "900000000000000302";

    async function send(
      subcommand: string,
      options: Record<string, OptionValue> = {},
      where = { guildId: GUILD_ID, channelId: CHANNEL_ID },
    ) {
      const name = subcommand === "show" ? "budget" : "video";
      return stack.discord.sendInteraction(
        stack.discord.chatInput({ name, subcommand, options, userId: user, locale, ...where }),
      );
    }

    function reply(id: string, predicate: (m: FakeMessage) => boolean) {
      return stack.discord.waitFor(() => {
        const m = stack.discord.interactionState(id)?.original;
        return m && predicate(m) ? m : undefined;
      }, 15_000);
    }

    function expectLanguage(text: string) {
      expect(text.length).toBeGreaterThan(0);
      if (lang === "ja") {
        expect(text).toMatch(JAPANESE);
        expect(englishProse(text), text).toEqual([]);
      } else {
        expect(text).not.toMatch(JAPANESE);
      }
    }

    it(`${locale}: a refusal`, async () => {
      const { id } = await send("text", { prompt: "\u200b\u200b" });
      const m = await reply(id, (x) => x.content.length > 0);
      expectLanguage(m.content);
      expect(m.content).toContain("`prompt`");
    });

    it(`${locale}: a shortfall`, async () => {
      const { id } = await send(
        "text",
        { prompt: "A long river" },
        { guildId: POOR_GUILD, channelId: POOR_CHANNEL },
      );
      const m = await reply(id, (x) => words(x).includes(t(lang, "reply.insufficient.title")));
      expectLanguage(words(m));
    });

    it(`${locale}: queued, progress, the video, then status and history`, async () => {
      const { id } = await send("text", { prompt: "A paper boat" });
      const done = await waitForVideo(stack.discord, id);
      const [job] = await stack.database.db.select().from(jobs).where(eq(jobs.interactionId, id));
      expect(job?.locale).toBe(lang);
      const number = String(job!.number);
      const pointer = await reply(id, (x) => x.content.includes(done.id));
      const every = [pointer.createdWith, ...pointer.edits].map((w) => JSON.stringify(w.body));
      expect(every.some((b) => b.includes(t(lang, "reply.queued.title", { job: number })))).toBe(true);
      expect(every.some((b) => b.includes(t(lang, "progress.title", { job: number })))).toBe(true);
      expectLanguage(words(done));
      expectLanguage(words(pointer));

      const status = await send("status", { job: job!.number });
      expectLanguage(words(await reply(status.id, (x) => (x.embeds?.length ?? 0) > 0)));
      const history = await send("history");
      expectLanguage(words(await reply(history.id, (x) => (x.embeds?.length ?? 0) > 0)));
    });

    it(`${locale}: a failure with its refund`, async () => {
      const { id } = await send("text", { prompt: "A storm [fail]" });
      const m = await reply(
        id,
        (x) =>
          words(x).includes(t(lang, "failed.title", { job: "" }).split("#")[0]!) &&
          words(x).includes("[fail]") &&
          (x.embeds?.[0]?.color ?? 0) === 0xed4245,
      );
      expectLanguage(words(m));
    });

    it(`${locale}: the budget`, async () => {
      const { id } = await send("show");
      expectLanguage(words(await reply(id, (x) => (x.embeds?.length ?? 0) > 0)));
    });
  }

  it("keeps the requester's language in a post after the token expired", async () => {
    stack.sim.inject({ route: "status", kind: "delay", ms: 300, times: 1 });
    const { id, token } = await stack.discord.sendInteraction(
      stack.discord.chatInput({
        name: "video",
        subcommand: "text",
        options: { prompt: "A quiet street" },
        userId: "900000000000000301",
        locale: "ja",
        guildId: GUILD_ID,
        channelId: CHANNEL_ID,
      }),
    );
    await stack.discord.waitFor(() => stack.discord.interactionState(id)?.original);
    const original = stack.discord.interactionState(id)!.original!;
    stack.discord.expireToken(token);
    stack.discord.inject({
      method: "PATCH",
      path: `/channels/${CHANNEL_ID}/messages/${original.id}`,
      status: 404,
      code: 10008,
      count: 20,
    });
    const posted = await stack.discord.waitFor(
      () =>
        stack.discord
          .channelMessages(CHANNEL_ID)
          .find((m) => m.createdWith.route === "channel" && m.content.includes("<@900000000000000301>")),
      15_000,
    );
    expect(words(posted)).toMatch(JAPANESE);
    expect(englishProse(words(posted))).toEqual([]);
  });
});
