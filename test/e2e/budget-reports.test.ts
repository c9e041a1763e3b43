import type { APIEmbed } from "discord.js";
import { and, eq, like } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseAdminArgs } from "../../src/admin/args.js";
import { runAdminCommand } from "../../src/admin/verbs.js";
import { creditLedger, jobs } from "../../src/db/schema.js";
import { checkInvariants, ensureGuild, getBalance, grantCredits } from "../../src/ledger/index.js";
import type { FakeMessage, OptionValue } from "../fakes/discord/index.js";
import { testDrivers } from "../helpers/db.js";
import { type Stack, startStack } from "./harness.js";

/**
 * What managers read of their server's budget, through the real discord.js client: `/budget usage` (a table
 * and a CSV file that agree) and `/budget ledger` (paged with buttons), for managers only and never showing
 * another server's rows; and operators' grants written alike by `/budget grant` and the command-line tool.
 */

const ART = "940000000000000601";
const ART_CHANNEL = "940000000000000602";
const GAMES = "940000000000000611";
const GAMES_CHANNEL = "940000000000000612";
const QUIET = "940000000000000621";
const BOOKS = "940000000000000631";
const OPERATOR = "940000000000000700";
const MANAGER = "940000000000000701";
const ANN = "940000000000000702";
const SAKURA = "940000000000000703";
const NAMES: Readonly<Record<string, string>> = { [ANN]: "Ann", [SAKURA]: "さくら" };
const MANAGE_GUILD = "32";

const channels: Readonly<Record<string, string>> = {
  [ART]: ART_CHANNEL,
  [GAMES]: GAMES_CHANNEL,
  [QUIET]: "940000000000000622",
  [BOOKS]: "940000000000000632",
};

describe.each(testDrivers())("managers' reports on %s", (driver) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      driver,
      env: { BOT_OWNER_IDS: OPERATOR },
      sim: {
        outcome: (b) =>
          String(b.prompt).includes("[slow]") ? { status: "SUCCESS", durationMs: 600_000 } : undefined,
      },
    });
    for (const [id, channel] of Object.entries(channels)) {
      await stack.discord.addGuild({ id, channels: [{ id: channel }] });
      await ensureGuild(stack.database.db, id, 100_000);
    }
  });
  afterAll(async () => {
    await stack?.close();
  });
  afterEach(async () => {
    expect((await checkInvariants(stack.database.db)).problems).toEqual([]);
  });

  interface As {
    user: string;
    guild: string;
    manager?: boolean;
    locale?: string;
  }
  const manager = (guild: string, locale?: string): As => ({ user: MANAGER, guild, manager: true, locale });

  /** A slash command from `as`, in the first channel of their server. */
  function send(name: string, subcommand: string, options: Record<string, OptionValue>, as: As) {
    return stack.discord.sendInteraction(
      stack.discord.chatInput({
        name,
        subcommand,
        options,
        userId: as.user,
        ...(NAMES[as.user] ? { username: NAMES[as.user] } : {}),
        guildId: as.guild,
        channelId: channels[as.guild],
        ...(as.manager ? { memberPermissions: MANAGE_GUILD } : {}),
        locale: as.locale ?? "en-US",
      }),
    );
  }

  /** The first answer with something in it (not the "thinking…" placeholder), ephemeral. */
  async function ephemeralAnswer(interactionId: string): Promise<FakeMessage> {
    const st = await stack.discord.waitFor(() => {
      const s = stack.discord.interactionState(interactionId);
      const m = s?.original;
      return m && (m.content || m.embeds.length) && !(m.flags & 128) ? s : undefined;
    }, 15_000);
    expect(st.original!.ephemeral, "the answer is ephemeral").toBe(true);
    expect(st.original!.pings).toEqual({ everyone: false, users: [], roles: [] });
    return st.original!;
  }

  function words(m: FakeMessage): string {
    const embeds = m.embeds as APIEmbed[];
    return [m.content, ...embeds.flatMap((e) => [e.title, e.description, e.footer?.text])].join("\n");
  }

  /** A video of `user` in their server, delivered (or failed, for a `[fail]` prompt). */
  async function video(as: As, prompt: string, options: Record<string, OptionValue> = {}) {
    const { id } = await send("video", "text", { prompt, ...options }, as);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [job] = await stack.database.db.select().from(jobs).where(eq(jobs.interactionId, id));
      if (job?.state === "completed" || job?.state === "failed") return;
      if (Date.now() > deadline) throw new Error(`video "${prompt}" still ${job?.state}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The table of a usage report: [name, model, videos, credits] per row, and the total row. */
  function table(m: FakeMessage) {
    const description = (m.embeds[0] as APIEmbed).description ?? "";
    const block = /```text\n([\s\S]*?)\n```/.exec(description)?.[1] ?? "";
    const [header, ...lines] = block.split("\n");
    const cells = (line: string) => line.split(/ {2,}/).map((c) => c.trim());
    const rows = lines.filter((l) => !/^-+$/.test(l)).map(cells);
    return { header: header!, lines, rows: rows.slice(0, -1), total: rows.at(-1)! };
  }

  /** Monospaced columns, counting kana and kanji as two, as Discord's code font shows them. */
  const columns = (text: string) =>
    [...text].reduce((w, ch) => w + (/[\u3000-\u30FF\u4E00-\u9FFF\uFF00-\uFF60]/.test(ch) ? 2 : 1), 0);

  /** Every row ends where the header does (figures right-aligned), and the model column starts in one place. */
  function expectAligned(lines: string[]) {
    const [header, ...rest] = lines;
    const rows = rest.filter((l) => !/^-+$/.test(l));
    for (const line of rows) expect(columns(line), line).toBe(columns(header!));
    const modelAt = (line: string) => columns(line.slice(0, line.search(/ (o3-std|pro|std) /) + 1));
    const models = rows.filter((l) => / (o3-std|pro|std) /.test(l));
    expect(models.length).toBeGreaterThan(0);
    expect(new Set(models.map(modelAt)).size).toBe(1);
  }

  it("/budget usage: managers only; the table and the CSV file say the same; no other server's spending", async () => {
    const ann = { user: ANN, guild: ART };
    const sakura = { user: SAKURA, guild: ART };
    // std, 5 s, with sound: 300 each; pro, 3 s, no sound: 162; O3 std, 5 s: 180.
    await video(ann, "A lake");
    await video(ann, "A river");
    await video(ann, "A sea", { model: "pro", duration: 3, sound: false });
    await video(sakura, "A mountain", { model: "o3-std" });
    await video(sakura, "A storm [fail]");
    // Ann's video in another server, and a video of Sakura's still in flight.
    await video({ user: ANN, guild: GAMES }, "A game");
    const { id: slow } = await send("video", "text", { prompt: "A glacier [slow]" }, sakura);
    await stack.discord.waitFor(
      () =>
        JSON.stringify(stack.discord.interactionState(slow)?.original?.embeds ?? "").includes("generating"),
      15_000,
    );

    const refused = await ephemeralAnswer((await send("budget", "usage", {}, ann)).id);
    expect(words(refused)).toMatch(/Only this server's managers/);

    const report = await ephemeralAnswer((await send("budget", "usage", {}, manager(ART))).id);
    expect(words(report)).toMatch(/Spending — this month \(UTC\)/);
    expect(words(report)).toMatch(/Not counted yet: 300 credits held for videos in flight/);
    const { header, lines, rows, total } = table(report);
    expect(header).toMatch(/^Member +Model +Videos +Credits$/);
    expectAligned(lines);
    expect(rows).toEqual([
      ["Ann", "std", "2", "600"],
      ["Ann", "pro", "1", "162"],
      ["さくら", "o3-std", "1", "180"],
    ]);
    expect(total).toEqual(["Total", "4", "942"]);

    const [file] = report.attachments;
    expect(file?.filename).toMatch(/^usage-month-\d{4}-\d\d-\d\d\.csv$/);
    const csv = file!.data.toString("utf8");
    expect(csv.endsWith("\r\n")).toBe(true);
    const [csvHeader, ...csvRows] = csv.trimEnd().split("\r\n");
    expect(csvHeader).toBe("member_id,model,jobs,credits");
    const byName = Object.fromEntries(Object.entries(NAMES).map(([id, name]) => [name, id]));
    expect(csvRows).toEqual(
      rows.map(([name, model, jobs, credits]) => [byName[name!], model, jobs, credits].join(",")),
    );

    // In Japanese, wide characters count two columns: the columns stay aligned.
    const ja = await ephemeralAnswer(
      (await send("budget", "usage", { period: "today" }, manager(ART, "ja"))).id,
    );
    expect(words(ja)).toMatch(/利用額 — 今日（UTC）/);
    const jaTable = table(ja);
    expect(jaTable.header).toMatch(/^メンバー +モデル +本数 +クレジット$/);
    expect(jaTable.rows.map((r) => r[0])).toEqual(["Ann", "Ann", "さくら"]);
    expectAligned(jaTable.lines);

    // The other server sees only its own spending; a server without any says so.
    const games = table(
      await ephemeralAnswer((await send("budget", "usage", { period: "7d" }, manager(GAMES))).id),
    );
    expect(games.rows).toEqual([["Ann", "std", "1", "300"]]);
    const quiet = await ephemeralAnswer(
      (await send("budget", "usage", { period: "30d" }, manager(QUIET))).id,
    );
    expect(words(quiet)).toMatch(/No video was delivered in this period: nothing was spent/);
    expect(quiet.attachments).toEqual([]);
  });

  it("/budget ledger: managers only, pages back and forth, and a page of another server shows nothing of it", async () => {
    const db = stack.database.db;
    // BOOKS has its starting credits (row 1 of its ledger) and 22 grants: 23 rows, pages of 10.
    for (let i = 1; i <= 22; i++) {
      await grantCredits(db, { guildId: BOOKS, amount: i, actorId: OPERATOR, reason: `gift ${i}` });
    }
    const gifts = (m: FakeMessage) => [...words(m).matchAll(/“gift (\d+)”/g)].map((g) => Number(g[1]));
    const buttons = (m: FakeMessage) =>
      (m.components[0] as { components: { label: string; custom_id: string; disabled?: boolean }[] })
        .components;

    expect(
      words(await ephemeralAnswer((await send("budget", "ledger", {}, { user: ANN, guild: BOOKS })).id)),
    ).toMatch(/Only this server's managers/);
    const page = await ephemeralAnswer((await send("budget", "ledger", {}, manager(BOOKS))).id);
    expect(gifts(page)).toEqual([22, 21, 20, 19, 18, 17, 16, 15, 14, 13]);
    const balance = (await getBalance(db, BOOKS)).toLocaleString("en-US");
    expect(words(page)).toContain(`Balance now: **${balance} credits**. Newest first.`);
    expect(words(page)).toContain(`**+22 credits** · Grant · by <@${OPERATOR}> · “gift 22”`);
    expect(buttons(page).map((b) => [b.label, Boolean(b.disabled)])).toEqual([
      ["Previous", true],
      ["Next", false],
    ]);

    /** Click a button of the page as `as`; returns the interaction's id once it was answered. */
    const click = async (label: "Previous" | "Next", as: As, customId?: string) => {
      const current = stack.discord.message(page.id)!;
      const button = buttons(current).find((b) => b.label === label)!;
      const { id } = await stack.discord.sendInteraction(
        stack.discord.component({
          customId: customId ?? button.custom_id,
          message: stack.discord.apiMessage(current),
          userId: as.user,
          guildId: as.guild,
          channelId: channels[as.guild],
          ...(as.manager ? { memberPermissions: MANAGE_GUILD } : {}),
        }),
      );
      await stack.discord.waitFor(() => stack.discord.interactionState(id)?.callbackType || undefined);
      return id;
    };
    const shown = () => gifts(stack.discord.message(page.id)!);

    await click("Next", manager(BOOKS));
    expect(shown()).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
    await click("Next", manager(BOOKS));
    expect(shown()).toEqual([2, 1]);
    expect(words(stack.discord.message(page.id)!)).toMatch(/starting credits/);
    expect(buttons(stack.discord.message(page.id)!).map((b) => Boolean(b.disabled))).toEqual([false, true]);
    await click("Previous", manager(BOOKS));
    expect(shown()).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
    await click("Previous", manager(BOOKS));
    expect(shown()).toEqual([22, 21, 20, 19, 18, 17, 16, 15, 14, 13]);

    // A member's click changes nothing and is told who may.
    const byMember = await click("Next", { user: ANN, guild: BOOKS });
    expect(words(stack.discord.interactionState(byMember)!.original!)).toMatch(/Only this server's managers/);
    expect(shown()).toEqual([22, 21, 20, 19, 18, 17, 16, 15, 14, 13]);

    // A manager of another server replaying this page's button, or forging one for this server: nothing of it.
    const next = buttons(stack.discord.message(page.id)!)[1]!.custom_id;
    for (const customId of [next, `kb1:ledger-newer:${BOOKS}:0`]) {
      const replayed = await click("Next", manager(GAMES), customId);
      const answer = stack.discord.interactionState(replayed)!.original!;
      expect(words(answer)).toMatch(/belongs to another server/);
      expect(words(answer)).not.toMatch(/gift/);
    }
    // The other server's own id with this server's row number pages through the other server's rows only.
    const [, , , cursor] = next.split(":");
    const own = await click("Next", manager(GAMES), `kb1:ledger-older:${GAMES}:${Number(cursor) + 1_000}`);
    expect(words(stack.discord.interactionState(own)!.original!)).not.toMatch(/gift/);
  });

  it("writes the same ledger row for a grant by /budget grant and by the command-line tool", async () => {
    const db = stack.database.db;
    const rowsOf = (reason: string) =>
      db
        .select()
        .from(creditLedger)
        .where(and(eq(creditLedger.guildId, QUIET), like(creditLedger.reason, `${reason}%`)));
    const cli = (...argv: string[]) => runAdminCommand(db, parseAdminArgs(argv).command, new Date());
    const command = async (credits: number, reason: string) =>
      ephemeralAnswer(
        (await send("budget", "grant", { credits, reason }, { user: OPERATOR, guild: QUIET })).id,
      );

    await command(500, "spring prize");
    await cli("grant", QUIET, "500", "--reason", "spring prize");
    // Taking more than there is: both take what there is, and say so in the row alike.
    const { data } = await cli("grant", QUIET, "-1000000", "--reason", "closing");
    const taken = -(data as { applied: number }).applied;
    await grantCredits(db, { guildId: QUIET, amount: taken, actorId: "test", reason: "refill" });
    await command(-1_000_000, "closing");

    for (const [reason, amount] of [
      ["spring prize", 500],
      ["closing", -taken],
    ] as const) {
      const rows = await rowsOf(reason);
      expect(rows.map((r) => r.actorId).sort()).toEqual([OPERATOR, "cli"].sort());
      // Alike but for who did it, the row's id and its time.
      const alike = rows.map(({ id: _id, createdAt: _at, actorId: _actor, ...rest }) => rest);
      expect(alike[0]).toEqual(alike[1]);
      expect(alike[0]).toMatchObject({ kind: "grant", amount, userId: null, jobId: null, flagged: false });
    }
    expect(taken).toBeGreaterThan(1_000);
    expect((await rowsOf("closing"))[0]?.reason).toBe(
      `closing (asked to take 1000000, only ${taken} available)`,
    );
  });
});
