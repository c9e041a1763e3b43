import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, queryRows } from "../../src/db/database.js";
import { checkInvariants } from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import { updateSettings } from "../../src/moderation/store.js";
import type { FakeDiscord } from "../fakes/discord/index.js";
import { FixtureProcess } from "../helpers/child.js";
import { PG_SERVER_UNAVAILABLE, type PgServer, startPgServer } from "../helpers/pg-server.js";
import { GUILD_ID, mainEnv, startFakes, videoMessage, videoText, waitForVideo } from "./harness.js";

/**
 * The real entry point (`src/main.ts`) in a child process on a private Postgres server whose backends are
 * killed (`pg_terminate_backend`, SQLSTATE 57P01) every 150 ms while a burst of commands comes in: the
 * process stays up, every command is answered, and the credits add up once the killing stops.
 */

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const APP_NAME = "kling-discord-bot";
const COMMANDS = 60;
const BURST = 6;
const KILL_EVERY_MS = 150;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the member finally sees: the video, a failure that returned the credits, or an error reference. */
function finalAnswer(discord: FakeDiscord, id: string): string | undefined {
  if (videoMessage(discord, id)) return "video";
  const m = discord.interactionState(id)?.original;
  if (!m) return undefined;
  const title = String(m.embeds[0]?.title ?? "");
  if (/— failed$/.test(title)) return "failed";
  if (/Something went wrong/.test(m.content)) return "error reference";
  return undefined;
}

describe("a bot whose database connections are killed mid-burst", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  });

  it.skipIf(PG_SERVER_UNAVAILABLE !== undefined)(
    `survives ${COMMANDS} commands while its backends are terminated every ${KILL_EVERY_MS} ms, answers each, and settles every job${PG_SERVER_UNAVAILABLE ? ` (skipped: ${PG_SERVER_UNAVAILABLE})` : ""}`,
    async () => {
      const pg: PgServer = await startPgServer();
      cleanups.push(() => pg.close());
      const { discord, sim } = await startFakes(cleanups, { taskMs: 300 });
      const child = new FixtureProcess(
        MAIN,
        undefined,
        mainEnv(discord, sim, {
          DEFAULT_GUILD_CREDITS: "1000000",
          KLING_RATE_LIMIT_PER_SEC: "200",
          DATABASE_URL: pg.url,
        }),
      );
      cleanups.push(() => child.stop());
      let childExit: unknown;
      void child.exited.then((e) => {
        childExit = e;
      });
      // Throws with the child's stderr (its crash) if it has exited.
      const alive = (what: string) => child.waitFor(() => childExit === undefined, what, 1_000);
      await child.waitFor(
        (lines) => lines.some((l) => l.includes('"bot started"')),
        "the bot to start",
        40_000,
      );
      // Sixty jobs of one member in a burst: the server's limits on jobs in flight are lifted.
      const admin = await openDatabase({ databaseUrl: pg.url, dataDir: "memory://", logger: silentLogger() });
      await updateSettings(admin.db, GUILD_ID, () => ({ memberJobs: 1000, serverJobs: 1000 }), 0);
      await admin.close();

      // Kill the bot's backends on a fixed beat until told to stop.
      let killing = true;
      let kills = 0;
      let rounds = 0;
      const killer = (async () => {
        while (killing) {
          kills += await pg.terminateBackends({ applicationName: APP_NAME });
          rounds++;
          await sleep(KILL_EVERY_MS);
        }
      })();
      cleanups.push(async () => {
        killing = false;
        await killer.catch(() => undefined);
      });

      const ids: string[] = [];
      for (let sent = 0; sent < COMMANDS; sent += BURST) {
        const burst = Array.from({ length: BURST }, (_, i) =>
          discord.sendInteraction(videoText(discord, `A storm over the sea, take ${sent + i + 1}`)),
        );
        const answered = await Promise.all(burst).catch(async (err) => {
          await alive("the burst to be dispatched");
          throw err;
        });
        ids.push(...answered.map((r) => r.id));
        await sleep(200);
      }
      // Keep killing while the jobs of the burst are submitted, polled and delivered.
      await sleep(3_000);
      killing = false;
      await killer;
      await alive("the killing to stop");
      expect(kills, "the killer terminated some of the bot's backends").toBeGreaterThan(rounds / 2);

      const unanswered = () => ids.filter((id) => finalAnswer(discord, id) === undefined);
      await discord
        .waitFor(() => unanswered().length === 0, 30_000)
        .catch(() => {
          const left = unanswered().map((id) => {
            const s = discord.interactionState(id);
            return `${id}: callback ${s?.callbackType}, ${JSON.stringify(s?.original?.embeds?.[0]?.title ?? s?.original?.content)}`;
          });
          throw new Error(`${left.length} of ${COMMANDS} commands got no final answer:\n${left.join("\n")}`);
        });
      // Every command got a first answer: directly (4) or a deferral (5).
      for (const id of ids)
        expect([4, 5], `first answer of ${id}`).toContain(discord.interactionState(id)?.callbackType);
      const outcomes = new Map<string, number>();
      for (const id of ids) {
        const outcome = finalAnswer(discord, id)!;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }

      // The killing has stopped: a new command is served normally.
      const last = await discord.sendInteraction(videoText(discord, "A calm sea after the storm"));
      await waitForVideo(discord, last.id, { timeoutMs: 20_000 });
      expect(childExit).toBeUndefined();

      const db = await openDatabase({
        databaseUrl: pg.url,
        dataDir: "memory://",
        logger: silentLogger(),
        migrate: false,
      });
      cleanups.push(() => db.close());
      // No job keeps its credits held once the killing stops: each reaches an end state and is settled.
      const unsettled = () =>
        queryRows<{ id: string; state: string }>(
          db.db,
          sql`select j.id, j.state from jobs j
              where j.state not in ('completed', 'failed')
                 or not exists (select 1 from credit_ledger l
                                where l.job_id = j.id and l.kind in ('capture', 'release'))`,
        );
      const deadline = Date.now() + 20_000;
      while ((await unsettled()).length > 0 && Date.now() < deadline) await sleep(200);
      expect(await unsettled()).toEqual([]);
      const report = await checkInvariants(db.db);
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);

      // Every connection error reached a caller; none escaped as an unhandled rejection or exception.
      const escaped = child.lines.filter((l) => /"msg":"(unhandled rejection|uncaught exception)/.test(l));
      expect(escaped).toEqual([]);
      console.info(
        `db-faults: ${kills} backends killed in ${rounds} rounds; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`,
      );
    },
    60_000,
  );
});
