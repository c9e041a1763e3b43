/**
 * `npm run bench:statements`: the SQL statements one accepted `/video text` costs, from the interaction to the
 * job handed over, counted by the Postgres server itself: `log_statement = all` on a private database (made
 * on BENCH_PG_SERVER_URL and dropped afterwards), read back from the server's log (BENCH_PG_LOG, default
 * Debian's /var/log/postgresql/postgresql-15-main.log; it must be readable). The bot runs as a gateway
 * process (PROCESS_ROLE=gateway): it accepts and hands over, and the submission by a poller is left out.
 * PGlite runs the same statements but `pg_notify` (it has no other process to tell).
 * Bench code, not product code: it may read process.env.
 */
import { readFile, stat } from "node:fs/promises";
import postgres from "postgres";
import { createKlingClient, startBot } from "../src/bot.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { startKlingSimulator } from "../src/kling-sim/server.js";
import { silentLogger } from "../src/log.js";
import { updateSettings } from "../src/moderation/store.js";
import { startFakeDiscord } from "../test/fakes/discord/index.js";
import { benchGuilds, sleep, throwawayPostgres } from "./support.js";

const LOG = process.env.BENCH_PG_LOG ?? "/var/log/postgresql/postgresql-15-main.log";
const JOBS = 20;
const SIM_KEY = "bench-statements-key";

const pg = await throwawayPostgres("kdb_bench_statements");
if (!pg) process.exit(0);
const dbName = new URL(pg.url).pathname.slice(1);
const logger = silentLogger();
const [guild] = benchGuilds(1);
const discord = await startFakeDiscord({ guilds: [guild!] });
const sim = await startKlingSimulator({ apiKey: SIM_KEY });
const database = await openDatabase({ databaseUrl: pg.url, dataDir: "memory://", logger });
const config = loadConfig(
  {
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
    KLING_API_KEY: SIM_KEY,
    KLING_API_URL: sim.url,
    DATABASE_URL: pg.url,
    DEFAULT_GUILD_CREDITS: "1000000",
    PROCESS_ROLE: "gateway",
    LOG_LEVEL: "silent",
  },
  ["bot"],
);
const kling = createKlingClient(config, logger);
const bot = await startBot({ config, logger, database, kling });
const marker = postgres(pg.url, { max: 1, onnotice: () => {} });
// Room for every job (a server holds 10 in flight by default); each command comes from a member of its own.
await updateSettings(database.db, guild!.id, () => ({ serverJobs: 1_000 }), 0);

let users = 0;
async function command(prompt: string): Promise<void> {
  const { id } = await discord.sendInteraction(
    discord.chatInput({
      name: "video",
      subcommand: "text",
      options: { prompt },
      userId: `95000000000${String(++users).padStart(7, "0")}`,
      guildId: guild!.id,
      channelId: guild!.channelId,
    }),
  );
  await discord.waitFor(() => discord.interactionState(id)?.callbackType === 4, 10_000);
  // The hand-over (and its notify) follow the answer.
  await sleep(100);
}

try {
  await marker.unsafe(`alter database ${dbName} set log_statement = 'all'`);
  // Sessions opened before the change keep logging nothing: start every connection again.
  await marker.unsafe(
    `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${dbName}' and pid <> pg_backend_pid()`,
  );
  await marker.end();
  await command("warm-up 1");
  await command("warm-up 2");
  const logStart = (await stat(LOG)).size;
  for (let i = 0; i < JOBS; i++) await command(`counted ${i}`);
  await sleep(500);
  const text = (await readFile(LOG)).subarray(logStart).toString("utf8");
  // One entry per statement: "… user@db LOG:  statement: …" (simple protocol) or "execute <name>: …".
  const statements = text
    .split(/\n(?=\d{4}-\d\d-\d\d )/)
    .filter((entry) => entry.includes(`@${dbName} LOG:  `))
    .map((entry) => entry.replace(/^.*? LOG: {2}(statement|execute [^:]*): /s, "").replace(/\s+/g, " "))
    // The presence lock's periodic check is the process's, not the jobs'.
    .filter((s) => !s.includes("pg_advisory_lock(") && !s.startsWith("DETAIL"));
  const counts = new Map<string, number>();
  for (const s of statements) counts.set(s.slice(0, 100), (counts.get(s.slice(0, 100)) ?? 0) + 1);
  console.log(`${JOBS} accepted /video text commands on Postgres: ${statements.length} statements\n`);
  for (const [s, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`${String(n).padStart(5)}  ${s}`);
  console.log(`\nstatements per accepted job: ${(statements.length / JOBS).toFixed(1)}`);
} finally {
  await bot.stop();
  await kling.close();
  await database.close();
  await sim.close();
  await discord.close();
  await pg.drop();
}
