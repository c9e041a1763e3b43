import type { APIEmbed } from "discord.js";
import { type Bot, createKlingClient, startBot } from "../../src/bot.js";
import { loadConfig } from "../../src/config.js";
import type { KlingClient } from "../../src/kling/client.js";
import {
  type KlingSimulator,
  type KlingSimulatorOptions,
  startKlingSimulator,
} from "../../src/kling-sim/server.js";
import { createLogger, silentLogger } from "../../src/log.js";
import { updateSettings } from "../../src/moderation/store.js";
import {
  type FakeDiscord,
  type FakeDiscordOptions,
  type FakeGuildConfig,
  type FakeMessage,
  startFakeDiscord,
} from "../fakes/discord/index.js";
import { openTestDatabase, type TestDatabase, type TestDriver } from "../helpers/db.js";

/**
 * The whole product on loopback: the real discord.js client against the fake Discord (REST + gateway),
 * the Kling simulator over HTTP, and a real database (PGlite, or Postgres when TEST_DATABASE_URL is set).
 */
export interface Stack {
  discord: FakeDiscord;
  sim: KlingSimulator;
  database: TestDatabase;
  bot: Bot;
  kling: KlingClient;
  env: Record<string, string>;
  /** Stop the bot (not the fakes), e.g. to start another process on the same database. */
  stopBot(): Promise<void>;
  /** After `stopBot`: start a new bot on the same database and fakes (a restart); `bot` is then the new one. */
  startAgain(): Promise<Bot>;
  close(): Promise<void>;
}

export const SIM_KEY = "sim-test-key-0123456789";
export const GUILD_ID = "900000000000000001";
export const CHANNEL_ID = "900000000000000002";
export const USER_ID = "900000000000000099";

/** A `/video text` interaction from the test member in the test channel. */
export function videoText(discord: FakeDiscord, prompt: string) {
  return discord.chatInput({
    name: "video",
    subcommand: "text",
    options: { prompt },
    userId: USER_ID,
    guildId: GUILD_ID,
    channelId: CHANNEL_ID,
  });
}

/** Everything a message says: its content, and each embed's title, description and fields. */
export function messageText(m: FakeMessage): string {
  return [
    m.content,
    ...(m.embeds as APIEmbed[]).flatMap((e) => [
      e.title ?? "",
      e.description ?? "",
      ...(e.fields ?? []).map((f) => `${f.name} ${f.value}`),
    ]),
  ].join("\n");
}

/**
 * The message that carries a job's video, once posted: the follow-up of its interaction (while the token
 * lived), else the channel post that names the requester and the job's number (read from the first reply).
 */
export function videoMessage(discord: FakeDiscord, interactionId: string): FakeMessage | undefined {
  const state = discord.interactionState(interactionId);
  if (!state) return undefined;
  const followUp = state.followUps.find((m) => !m.deleted);
  if (followUp) return followUp;
  const original = state.original;
  const first = original && [original.createdWith, ...original.edits].find((w) => w.body.embeds);
  const number = first && /#(\d+)/.exec(JSON.stringify(first.body.embeds))?.[1];
  if (!number) return undefined;
  const title = new RegExp(`#${number}(?!\\d)`);
  return discord
    .channelMessages(state.channelId)
    .find(
      (m) =>
        !m.deleted &&
        m.createdWith.route === "channel" &&
        m.content.includes(`<@${state.userId}>`) &&
        m.embeds.some((e) => title.test(String(e.title))),
    );
}

/** The job's video message once it carries the file (or its link: `linked`). */
export function waitForVideo(
  discord: FakeDiscord,
  interactionId: string,
  options: { linked?: boolean; timeoutMs?: number } = {},
): Promise<FakeMessage> {
  return discord.waitFor(() => {
    const m = videoMessage(discord, interactionId);
    if (!m) return undefined;
    return options.linked || m.attachments.length > 0 ? m : undefined;
  }, options.timeoutMs ?? 15_000);
}

export interface StackOptions {
  driver?: TestDriver;
  sim?: KlingSimulatorOptions;
  env?: Record<string, string>;
  discord?: Omit<FakeDiscordOptions, "guilds">;
  /** Servers the bot is in from the start, besides the test guild. */
  guilds?: FakeGuildConfig[];
  /** The API URL the bot uses, given the simulator's (e.g. a proxy in front of it). Default: the simulator. */
  apiUrl?: (sim: KlingSimulator) => Promise<string>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const discord = await startFakeDiscord({
    guilds: [{ id: GUILD_ID, channels: [{ id: CHANNEL_ID, name: "videos" }] }, ...(options.guilds ?? [])],
    ...options.discord,
  });
  const sim = await startKlingSimulator({ apiKey: SIM_KEY, taskDurationMs: 150, ...options.sim });
  const apiUrl = options.apiUrl ? await options.apiUrl(sim) : sim.url;
  const database = await openTestDatabase(options.driver ?? "pglite");
  const env: Record<string, string> = {
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
    KLING_API_KEY: SIM_KEY,
    KLING_API_URL: apiUrl,
    DEFAULT_GUILD_CREDITS: "10000",
    POLL_INTERVAL_MS: "60",
    PROGRESS_INTERVAL_MS: "0",
    KLING_RATE_LIMIT_PER_SEC: "200",
    KLING_TIMEOUT_MS: "5000",
    DEV_GUILD_ID: GUILD_ID,
    LOG_LEVEL: "silent",
    ...options.env,
    // The simulator serves its videos from its own origin (http on loopback): trusted, like an operator's CDN.
    TRUSTED_VIDEO_ORIGINS: [sim.url, options.env?.TRUSTED_VIDEO_ORIGINS].filter(Boolean).join(","),
  };
  const config = loadConfig(env, ["bot", "kling"]);
  // E2E_LOG=debug shows the bot's log while a test runs.
  const level = process.env.E2E_LOG;
  const logger = level ? createLogger({ level, secrets: [discord.token, SIM_KEY] }) : silentLogger();
  const kling = createKlingClient(config, logger, { backoffBaseMs: 20, backoffCapMs: 200 });
  let bot = await startBot({ config, logger, database, kling });
  // The test member sends many jobs at once in several suites: the server's limits on jobs in flight (2 per
  // member, 10 per server by default) are lifted for the test guild; the moderation suite uses its own guild.
  await updateSettings(database.db, GUILD_ID, () => ({ memberJobs: 1000, serverJobs: 1000 }), 0);
  let botStopped = false;
  const stopBot = async () => {
    if (botStopped) return;
    botStopped = true;
    await bot.stop();
  };
  return {
    discord,
    sim,
    database,
    get bot() {
      return bot;
    },
    kling,
    env,
    stopBot,
    async startAgain() {
      if (!botStopped) throw new Error("stop the bot first");
      bot = await startBot({ config, logger, database, kling });
      botStopped = false;
      return bot;
    },
    async close() {
      await stopBot();
      await kling.close();
      await database.close();
      await sim.close();
      await discord.close();
    },
  };
}

/** The fake Discord and the simulator for a test of the real entry point in child processes. */
export async function startFakes(
  cleanups: (() => Promise<void>)[],
  options: { taskMs: number; discord?: Omit<FakeDiscordOptions, "guilds"> },
): Promise<{ discord: FakeDiscord; sim: KlingSimulator }> {
  const discord = await startFakeDiscord({
    guilds: [{ id: GUILD_ID, channels: [{ id: CHANNEL_ID, name: "videos" }] }],
    ...options.discord,
  });
  cleanups.push(() => discord.close());
  const sim = await startKlingSimulator({ apiKey: SIM_KEY, taskDurationMs: options.taskMs });
  cleanups.push(() => sim.close());
  return { discord, sim };
}

/** The environment of `src/main.ts` against the fakes (JSON logs at info, fast polling, short leases). */
export function mainEnv(
  discord: FakeDiscord,
  sim: KlingSimulator,
  extra: Record<string, string | undefined>,
): Record<string, string | undefined> {
  return {
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
    KLING_API_KEY: SIM_KEY,
    KLING_API_URL: sim.url,
    DEFAULT_GUILD_CREDITS: "10000",
    DEV_GUILD_ID: GUILD_ID,
    POLL_INTERVAL_MS: "100",
    JOB_LEASE_MS: "1500",
    PROGRESS_INTERVAL_MS: "0",
    LOG_LEVEL: "info",
    LOG_PRETTY: "false",
    DATABASE_URL: undefined,
    DATA_DIR: undefined,
    ...extra,
  };
}
