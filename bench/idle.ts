/**
 * `npm run bench:idle`: what the compiled bot costs while nobody uses it. Starts `dist/src/start.js` (as `npm start` does) against the
 * fake Discord and the Kling simulator, on PGlite and on Postgres, lets it settle, then reads its CPU time
 * (utime + stime from /proc) over BENCH_IDLE_SECONDS (default 60) and its resident memory. Printed beside a bare
 * discord.js client logged in to the same fake Discord, measured the same way in the same run.
 * Needs `npm run build` first. Bench code, not product code: it may read process.env.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { startKlingSimulator } from "../src/kling-sim/server.js";
import { CHANNEL_ID, GUILD_ID, SIM_KEY } from "../test/e2e/harness.js";
import { startFakeDiscord } from "../test/fakes/discord/index.js";
import { rssMiB } from "./support.js";

const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const SETTLE_MS = 10_000;
const PG_SERVER = process.env.BENCH_PG_SERVER ?? "postgres://postgres@127.0.0.1:5432/postgres";
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime, stime
}

async function measure(label: string, args: string[], env: Record<string, string>, ready: string) {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const deadline = Date.now() + 60_000;
  while (!out.includes(ready) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!out.includes(ready)) throw new Error(`${label} did not start:\n${out.slice(-2000)}`);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const before = await cpuTicks(child.pid!);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const ticks = (await cpuTicks(child.pid!)) - before;
  const wallS = (performance.now() - t0) / 1000;
  const rss = await rssMiB(child.pid!);
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  const cpuPct = (ticks / TICKS_PER_SECOND / wallS) * 100;
  console.log(
    `${label.padEnd(40)} CPU ${cpuPct.toFixed(2).padStart(5)} % of a core   RSS ${rss.toFixed(0).padStart(4)} MiB`,
  );
}

const main = fileURLToPath(new URL("../dist/src/start.js", import.meta.url));
if (!existsSync(main)) {
  console.log("run `npm run build` first");
  process.exit(1);
}
const discord = await startFakeDiscord({ guilds: [{ id: GUILD_ID, channels: [{ id: CHANNEL_ID }] }] });
const sim = await startKlingSimulator({ apiKey: SIM_KEY });
const dir = await mkdtemp(join(tmpdir(), "kdb-idle-"));
const admin = postgres(PG_SERVER, { max: 1, onnotice: () => {} });
const dbName = `kdb_bench_idle_${process.pid}`;
await admin.unsafe(`create database ${dbName}`);
const pgUrl = new URL(PG_SERVER);
pgUrl.pathname = `/${dbName}`;
const common = {
  DISCORD_TOKEN: discord.token,
  DISCORD_API_URL: discord.apiUrl,
  KLING_API_KEY: SIM_KEY,
  KLING_API_URL: sim.url,
  LOG_LEVEL: "info",
  LOG_PRETTY: "false",
};
// A bare discord.js client logged in to the same fake Discord: the floor of any bot.
const bare = join(dir, "bare.mjs");
await writeFile(
  bare,
  `import { Client, GatewayIntentBits } from ${JSON.stringify(fileURLToPath(import.meta.resolve("discord.js")))};
const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: process.env.DISCORD_API_URL } });
client.once("clientReady", () => console.log("bare ready"));
await client.login(process.env.DISCORD_TOKEN);
process.on("SIGTERM", async () => { await client.destroy(); process.exit(0); });
`,
);
try {
  console.log(
    `Idle cost, ${SECONDS} s after ${SETTLE_MS / 1000} s to settle, node ${process.version}, ${new Date().toISOString()}`,
  );
  await measure("bare discord.js client", [bare], common, "bare ready");
  await measure("bot on PGlite", [main], { ...common, DATA_DIR: join(dir, "pglite") }, '"bot started"');
  await measure("bot on Postgres", [main], { ...common, DATABASE_URL: pgUrl.toString() }, '"bot started"');
} finally {
  await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => undefined);
  await admin.end({ timeout: 5 });
  await rm(dir, { recursive: true, force: true });
  await sim.close();
  await discord.close();
}
