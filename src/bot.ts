import { hostname } from "node:os";
import { Client, Events, GatewayIntentBits, REST } from "discord.js";
import { sql } from "drizzle-orm";
import type { Config } from "./config.js";
import type { DatabaseHandle } from "./db/database.js";
import { JOBS_CHANNEL, type Presence, startPresence } from "./db/presence.js";
import { guildAllowed, leaveUnlistedGuild } from "./discord/allowed-guilds.js";
import { ChannelPosts } from "./discord/channel-posts.js";
import { DiscordJobReplies } from "./discord/job-replies.js";
import { ModeratorChannel } from "./discord/moderator-channel.js";
import { registerCommands } from "./discord/register.js";
import { Replies } from "./discord/replies.js";
import { restOptions } from "./discord/rest.js";
import { createRouter } from "./discord/router.js";
import { VideoFetcher } from "./jobs/download.js";
import { Poller } from "./jobs/poller.js";
import { releaseAllLeases } from "./jobs/repository.js";
import type { JobServices } from "./jobs/services.js";
import { type KlingApi, KlingClient, type KlingClientOptions } from "./kling/client.js";
import { ensureGuilds, topUpAllowances } from "./ledger/index.js";
import type { Logger } from "./log.js";
import { createOperatorNotifier } from "./operators/notifier.js";
import { discordLoginError } from "./service/startup.js";

/**
 * The composition root of one process: it wires the database, the API client, Discord and the poller,
 * and hands each part what it needs. Tests build it with their own parts (fake Discord, simulator).
 */

export interface BotParts {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  kling: KlingApi;
  now?: () => Date;
  /** Health and metrics (src/health, src/metrics): what they need to see of the process. */
  observers?: BotObservers;
}

export interface BotObservers {
  /** Each discord.js REST client the calls of this process go through (their `response` events). */
  rest?(rest: REST): void;
  /** The poll loop finished a pass (the health check: the loop runs). */
  pollerAlive?(): void;
}

export interface Bot {
  client: Client | undefined;
  poller: Poller | undefined;
  services: JobServices;
  stop(): Promise<void>;
}

/** The Kling client of a process, from its configuration (one rate limiter for all its calls). */
export function createKlingClient(
  config: Config,
  logger: Logger,
  extra: Partial<KlingClientOptions> = {},
): KlingClient {
  return new KlingClient({
    baseUrl: config.klingApiUrl,
    apiKey: config.klingApiKey ?? "",
    timeoutMs: config.kling.timeoutMs,
    maxRetries: config.kling.maxRetries,
    ratePerSecond: config.kling.ratePerSecond,
    logger,
    ...extra,
  });
}

function makeRest(config: Config, options: { retries?: number } = {}): REST {
  const rest = new REST({ ...restOptions(config), ...options });
  if (config.discordToken) rest.setToken(config.discordToken);
  return rest;
}

export async function startBot(parts: BotParts): Promise<Bot> {
  const { config, logger, database } = parts;
  const now = parts.now ?? (() => new Date());
  const owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const gateway = config.role !== "worker";
  const polling = config.role !== "gateway";

  const client = gateway
    ? new Client({
        intents: [GatewayIntentBits.Guilds],
        rest: restOptions(config),
        // Nothing the bot sends pings anyone unless a message names its requester explicitly.
        allowedMentions: { parse: [] },
        ...(config.shard ? { shards: config.shard.id, shardCount: config.shard.count } : {}),
      })
    : undefined;
  const rest = client?.rest ?? makeRest(config);
  // Follow-ups take no nonce: a request repeated after a lost answer would post a second message.
  const restOnce = makeRest(config, { retries: 0 });
  parts.observers?.rest?.(rest);
  parts.observers?.rest?.(restOnce);
  const download = new VideoFetcher({
    policy: {
      maxBytes: config.poll.maxVideoBytes,
      totalTimeoutMs: config.download.timeoutMs,
      minBytesPerSecond: config.download.minBytesPerSecond,
      graceMs: Math.min(10_000, Math.floor(config.download.timeoutMs / 4)),
    },
    trustedOrigins: config.download.trustedOrigins,
  });
  const stopping = new AbortController();
  const operators = createOperatorNotifier({
    rest,
    ownerIds: config.botOwnerIds,
    ...(config.operatorChannelId ? { channelId: config.operatorChannelId } : {}),
    logger,
    now,
  });
  let poller: Poller | undefined;
  let presence: Presence | undefined;
  const notifyPollers = coalesced(() => database.db.execute(sql`select pg_notify(${JOBS_CHANNEL}, '')`));
  const services: JobServices = {
    db: database.db,
    kling: parts.kling,
    port: new DiscordJobReplies(new Replies({ rest, restOnce, logger, now })),
    download,
    logger,
    signal: stopping.signal,
    now,
    owner,
    async announce() {
      poller?.poke();
      // Pollers of other processes hear it through Postgres; PGlite has no other process.
      if (database.driver === "postgres") await notifyPollers();
    },
    alert: (incident) => void operators.notify(incident),
    estimates: new Map(),
    settings: {
      pollIntervalMs: config.poll.intervalMs,
      klingRatePerSecond: config.kling.ratePerSecond,
      progressIntervalMs: config.poll.progressIntervalMs,
      jobTimeoutMs: config.poll.jobTimeoutMs,
      maxVideoBytes: config.poll.maxVideoBytes,
      defaultGuildCredits: config.defaultGuildCredits,
      leaseMs: config.poll.leaseMs,
      maxSubmitAttempts: 10,
    },
  };

  if (database.driver === "pglite") {
    // The folder lock proves the process that held these leases is gone: take them all back now.
    const taken = await releaseAllLeases(database.db);
    if (taken > 0) logger.info({ jobs: taken }, "took back the jobs of the previous process");
  } else if (config.databaseUrl) {
    presence = await startPresence({ url: config.databaseUrl, owner, logger, onJob: () => poller?.poke() });
  }
  poller = polling
    ? new Poller(services, {
        concurrency: config.poll.concurrency,
        deliveryConcurrency: config.poll.deliveryConcurrency,
        maxInFlight: config.kling.maxInFlight,
        idleMs: Math.min(1_000, config.poll.intervalMs),
        deadOwners: presence !== undefined,
        ...(parts.observers?.pollerAlive ? { onPass: parts.observers.pollerAlive } : {}),
      })
    : undefined;

  // Commands being answered right now: a clean stop lets them finish (a submit must not be cut in half).
  const handlers = new Set<Promise<void>>();
  if (client) {
    const operatorIds = new Set(config.botOwnerIds);
    const allowedGuildIds = config.allowedGuildIds ? new Set(config.allowedGuildIds) : undefined;
    const moderation = new ModeratorChannel({ rest, db: database.db, logger });
    const posts = new ChannelPosts({ rest, logger });
    const route = createRouter({ services, logger, moderation, posts, operatorIds, allowedGuildIds });
    client.on(Events.InteractionCreate, (interaction) => {
      const work = route(interaction).finally(() => handlers.delete(work));
      handlers.add(work);
    });
    const record = (guildIds: string[]) =>
      ensureGuilds(database.db, guildIds, config.defaultGuildCredits).catch((err) =>
        logger.error({ err, guilds: guildIds.length }, "could not record the bot's guilds"),
      );
    // Guilds the bot already belongs to arrive during login without a guildCreate event: record them once
    // ready; guilds joined later arrive with guildCreate. A guild not in ALLOWED_GUILD_IDS is left instead.
    client.on(Events.GuildCreate, (guild) =>
      guildAllowed(allowedGuildIds, guild.id)
        ? void record([guild.id])
        : void leaveUnlistedGuild(guild, logger),
    );
    client.on(Events.Error, (err) => logger.error({ err }, "discord client error"));
    client.on(Events.ShardDisconnect, (event, shardId) =>
      logger.error(
        { shardId, code: event.code },
        event.code === 4004
          ? "Discord refused DISCORD_TOKEN and closed the gateway"
          : "Discord closed the gateway",
      ),
    );
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(config.discordToken).catch((err) => {
      throw discordLoginError(err);
    });
    await ready;
    const joined = [...client.guilds.cache.values()];
    await record(joined.filter((g) => guildAllowed(allowedGuildIds, g.id)).map((g) => g.id));
    for (const guild of joined) {
      if (!guildAllowed(allowedGuildIds, guild.id)) await leaveUnlistedGuild(guild, logger);
    }
    // The application's owner (or its team's members) operate the bot too.
    for (const id of await applicationOwners(client, logger)) operatorIds.add(id);
    logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, "connected to Discord");
    if (config.registerCommands && client.application) {
      await registerCommands(client.rest, client.application.id, config.devGuildId, logger).catch((err) =>
        logger.error({ err }, "could not register commands"),
      );
    }
  }
  poller?.start();
  // Monthly allowances: every process looks at start and every ALLOWANCE_CHECK_INTERVAL_MS (a minute); a
  // compare-and-set on the month tops up once.
  const topUp = async () => {
    const done = await topUpAllowances(database.db, now()).catch((err) => {
      logger.warn({ err }, "could not top up monthly allowances");
      return [];
    });
    for (const t of done) logger.info({ guildId: t.guildId, added: t.added }, "monthly allowance topped up");
  };
  const allowanceTimer = polling
    ? setInterval(() => void topUp(), config.allowanceCheckIntervalMs)
    : undefined;
  allowanceTimer?.unref();
  if (polling) await topUp();
  logger.info({ role: config.role, driver: database.driver }, "bot started");

  return {
    client,
    poller,
    services,
    async stop() {
      clearInterval(allowanceTimer);
      // Every part stops even if one fails: above all the poller, so that a step in hand commits before the
      // database is closed.
      const failures: unknown[] = [];
      const attempt = async (part: () => Promise<unknown> | undefined) => {
        try {
          await part();
        } catch (err) {
          failures.push(err);
        }
      };
      await attempt(() => client?.destroy());
      await Promise.allSettled([...handlers]);
      stopping.abort();
      await attempt(() => poller?.stop());
      await attempt(() => presence?.stop());
      await attempt(() => download.close());
      if (failures.length > 0) throw failures[0];
    },
  };
}

/**
 * `run`, but never twice at once: a call while it runs is answered by one more run after it (shared by every
 * call in between). A notification only wakes the pollers, who then claim whatever is due, so a burst of
 * hand-overs needs two notifications rather than one each; still, every call is followed by a run that
 * started after it.
 */
export function coalesced(run: () => Promise<unknown>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const start = (): Promise<void> => {
    running = run()
      .then(() => undefined)
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  return () => {
    if (!running) return start();
    // The next run goes ahead whatever the current one did; its own callers hear how it went.
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return start();
      });
    return queued;
  };
}

/** The user ids that own the Discord application: its owner, or the members of the team that owns it. */
async function applicationOwners(client: Client, logger: Logger): Promise<string[]> {
  try {
    const application = await client.application?.fetch();
    const owner = application?.owner;
    if (!owner) return [];
    return "members" in owner ? [...owner.members.keys()] : [owner.id];
  } catch (err) {
    logger.warn({ err }, "could not read the application's owners; only BOT_OWNER_IDS operate the bot");
    return [];
  }
}
