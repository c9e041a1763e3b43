/**
 * `npm run bench:deferral`: how fast the bot answers Discord when many members ask at once. 500
 * `/video text` interactions across 50 servers are dispatched in the same instant by the fake Discord; the
 * figure is the time from dispatching each INTERACTION_CREATE to the fake Discord receiving that
 * interaction's first callback (the answer itself, or the deferral). Beside it, in the same process and the
 * same run, a bare discord.js client that does nothing but defer, against its own fake Discord: what any bot
 * on this machine would get. Bursts of the two alternate (BENCH_ROUNDS rounds, default 3), on PGlite (a
 * temporary folder, the driver as the bot opens it) and on Postgres (a fresh database on
 * BENCH_PG_SERVER_URL, default postgres://postgres@127.0.0.1:5432, dropped afterwards).
 *
 * Every server has credits and job limits enough that every request is accepted: the bot does its full work
 * (rules, hold, job row, "queued" answer, hand-over; its poller then submits the jobs to the simulator).
 * Bench code, not product code: it may read process.env.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, Events, GatewayIntentBits } from "discord.js";
import { type Bot, createKlingClient, startBot } from "../src/bot.js";
import { loadConfig } from "../src/config.js";
import { type DatabaseDriver, type DatabaseHandle, openDatabase } from "../src/db/database.js";
import type { KlingClient } from "../src/kling/client.js";
import { type KlingSimulator, startKlingSimulator } from "../src/kling-sim/server.js";
import { silentLogger } from "../src/log.js";
import { updateSettings } from "../src/moderation/store.js";
import { type FakeDiscord, startFakeDiscord } from "../test/fakes/discord/index.js";
import { benchGuilds, machineLoad, quantile, sleep, sortedCopy, throwawayPostgres } from "./support.js";

const SERVERS = 50;
const BURST = 500;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARM_UP = 100;
const SIM_KEY = "bench-deferral-key";
const CREDITS = 1_000_000_000;
const guilds = benchGuilds(SERVERS);

interface Target {
  name: string;
  discord: FakeDiscord;
  /** The interactions of a burst have their final answer (the bare bot's deferral is its final answer). */
  settled(ids: readonly string[]): boolean;
  close(): Promise<void>;
}

let users = 0;

/** `count` `/video text` interactions, spread over the servers, each from a member of its own. */
function interactions(discord: FakeDiscord, count: number, tag: string) {
  return Array.from({ length: count }, (_, i) => {
    const guild = guilds[i % guilds.length]!;
    return discord.chatInput({
      name: "video",
      subcommand: "text",
      options: { prompt: `${tag} ${i}` },
      userId: `94000000000${String(++users).padStart(7, "0")}`,
      guildId: guild.id,
      channelId: guild.channelId,
    });
  });
}

/** Dispatch them all at once; the latency of each one's first callback (ms). */
async function burst(target: Target, count: number, tag: string): Promise<number[]> {
  const payloads = interactions(target.discord, count, tag);
  const sent = await Promise.all(payloads.map((p) => target.discord.sendInteraction(p)));
  const ids = sent.map((s) => s.id);
  // Looked at every 50 ms rather than with one waiter per interaction, which would cost the bots CPU.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const latencies = ids.map((id) => target.discord.callbackLatencyMs(id));
    if (latencies.every((l) => l !== undefined) && target.settled(ids)) return latencies as number[];
    if (Date.now() > deadline) throw new Error(`${target.name}: not all ${count} answered within 60 s`);
    await sleep(50);
  }
}

async function bareBot(): Promise<Target> {
  const discord = await startFakeDiscord({ guilds, callbackDeadlineMs: Number.POSITIVE_INFINITY });
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: discord.apiUrl } });
  client.on(Events.InteractionCreate, (interaction) => {
    if (interaction.isRepliable()) void interaction.deferReply().catch(() => undefined);
  });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(discord.token);
  await ready;
  return {
    name: "bare discord.js bot",
    discord,
    settled: () => true,
    async close() {
      await client.destroy();
      await discord.close();
    },
  };
}

async function openBenchDatabase(
  driver: DatabaseDriver,
): Promise<{ database: DatabaseHandle; remove(): Promise<void> } | undefined> {
  const logger = silentLogger();
  if (driver === "pglite") {
    const dir = await mkdtemp(join(tmpdir(), "kdb-bench-deferral-"));
    const database = await openDatabase({ dataDir: dir, logger });
    return { database, remove: () => rm(dir, { recursive: true, force: true }) };
  }
  const pg = await throwawayPostgres("kdb_bench_deferral");
  if (!pg) return undefined;
  const database = await openDatabase({ databaseUrl: pg.url, dataDir: "memory://", logger });
  return { database, remove: () => pg.drop() };
}

async function productBot(driver: DatabaseDriver): Promise<Target | undefined> {
  const opened = await openBenchDatabase(driver);
  if (!opened) return undefined;
  const { database } = opened;
  const discord = await startFakeDiscord({ guilds, callbackDeadlineMs: Number.POSITIVE_INFINITY });
  const sim: KlingSimulator = await startKlingSimulator({ apiKey: SIM_KEY, taskDurationMs: 600_000 });
  const config = loadConfig(
    {
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      KLING_API_KEY: SIM_KEY,
      KLING_API_URL: sim.url,
      DEFAULT_GUILD_CREDITS: String(CREDITS),
      LOG_LEVEL: "silent",
    },
    ["bot", "kling"],
  );
  const logger = silentLogger();
  const kling: KlingClient = createKlingClient(config, logger);
  const bot: Bot = await startBot({ config, logger, database, kling });
  // Enough room that every request of every round is accepted.
  for (const g of guilds) {
    await updateSettings(database.db, g.id, () => ({ memberJobs: 1_000, serverJobs: 1_000_000 }), CREDITS);
  }
  return {
    name: `bot on ${driver}`,
    discord,
    // Answered with the job (or, after a deferral, the deferred reply edited to show it).
    settled: (ids) =>
      ids.every((id) => {
        const st = discord.interactionState(id);
        return st?.callbackType === 4 || (st?.callbackType === 5 && (st.original?.edits.length ?? 0) > 0);
      }),
    async close() {
      await bot.stop();
      await kling.close();
      await database.close();
      await opened.remove();
      await sim.close();
      await discord.close();
    },
  };
}

const fmt = (ms: number) => ms.toFixed(0).padStart(6);

function line(label: string, values: readonly number[]): string {
  const s = sortedCopy(values);
  const late = s.filter((v) => v > 3_000).length;
  return `  ${label.padEnd(24)} n=${String(s.length).padStart(4)}  p50 ${fmt(quantile(s, 0.5))} ms  p99 ${fmt(quantile(s, 0.99))} ms  max ${fmt(s.at(-1) ?? Number.NaN)} ms${late ? `  over 3 s: ${late}` : ""}`;
}

async function compare(driver: DatabaseDriver): Promise<void> {
  const bot = await productBot(driver);
  if (!bot) return;
  const bare = await bareBot();
  try {
    for (const target of [bare, bot]) await burst(target, WARM_UP, "warm-up");
    await sleep(1_000);
    const all = new Map<Target, number[]>([
      [bare, []],
      [bot, []],
    ]);
    console.log(`${driver}:`);
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate who goes first, so that drift in the machine's load falls on both alike.
      const order = round % 2 === 0 ? [bare, bot] : [bot, bare];
      for (const target of order) {
        const latencies = await burst(target, BURST, `round ${round}`);
        all.get(target)!.push(...latencies);
        console.log(line(`round ${round + 1}, ${target.name}`, latencies));
        // Let the bot's background work of the burst (hand-overs, submits) calm down before the next one.
        await sleep(2_000);
      }
    }
    const b = sortedCopy(all.get(bare)!);
    const o = sortedCopy(all.get(bot)!);
    console.log(line(`all rounds, ${bare.name}`, b));
    console.log(line(`all rounds, ${bot.name}`, o));
    console.log(
      `  ratio bot / bare: p50 ×${(quantile(o, 0.5) / quantile(b, 0.5)).toFixed(2)}, p99 ×${(quantile(o, 0.99) / quantile(b, 0.99)).toFixed(2)} (target p99 ≤ ×1.5)\n`,
    );
  } finally {
    await bare.close();
    await bot.close();
  }
}

const started = Date.now();
console.log(
  `Deferral benchmark: ${BURST} interactions at once across ${SERVERS} servers, ${ROUNDS} rounds; node ${process.version}, ${new Date().toISOString()}, ${machineLoad()}\n`,
);
const drivers = (process.env.BENCH_DRIVERS ?? "pglite,postgres").split(",") as DatabaseDriver[];
for (const driver of drivers) await compare(driver);
console.log(`${machineLoad()}; total time ${((Date.now() - started) / 1000).toFixed(1)} s`);
