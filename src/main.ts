import { type BotObservers, createKlingClient, startBot } from "./bot.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { openDatabase } from "./db/database.js";
import { isConnectionError } from "./db/transient.js";
import { Health } from "./health/health.js";
import { type ServiceServer, startServiceServer } from "./health/server.js";
import { createLogger } from "./log.js";
import { watchDiscordRest } from "./metrics/discord.js";
import { Metrics } from "./metrics/metrics.js";
import { checkKlingKey, describeError, StartupError, startupStep } from "./service/startup.js";

/**
 * `npm start` (through start.ts, which checks the Node version first): run the bot until SIGTERM or SIGINT.
 * Start-up runs in named steps; a failed step stops the process with exit code 1 and one log line that names
 * the step and the root cause.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(undefined, ["bot", "kling"]);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({
    level: config.logLevel,
    pretty: config.logPretty,
    secrets: [config.discordToken, config.klingApiKey],
  });
  // What a failed start closes again, last opened first.
  const opened: (() => Promise<unknown>)[] = [];
  const failStart = async (err: unknown): Promise<never> => {
    // The message already names the causes: the record carries the original error (with its stack) beside it.
    const startup = err instanceof StartupError ? err : undefined;
    const message = startup ? startup.message : `start-up failed: ${describeError(err)}`;
    logger.fatal({ err: startup ? startup.cause : err, step: startup?.step }, message);
    if (!logger.isLevelEnabled("fatal")) console.error(message);
    for (const close of opened.reverse()) await close().catch(() => undefined);
    logger.flush?.();
    process.exit(1);
  };

  // The poll loop counts as stuck after a minute without a pass; a step in hand renews its lease every
  // JOB_LEASE_MS/3, which may be longer when leases are long.
  const health = new Health({
    role: config.role,
    pollerMaxSilenceMs: Math.max(60_000, Math.ceil(config.poll.leaseMs / 3) + 10_000),
  });
  let metrics: Metrics | undefined;
  let server: ServiceServer | undefined;
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    if (config.metrics) {
      const { host, port, topGuilds } = config.metrics;
      metrics = new Metrics({ logger, topGuilds });
      const m = metrics;
      server = await startupStep(`health and metrics server (${host}:${port})`, () =>
        startServiceServer({ host, port, health, metrics: m, logger }),
      );
      opened.push(server.close);
    }
    // Only pollers call the API (a gateway process accepts jobs and hands them over). First, as it needs
    // nothing else: a refused key stops the start in a second.
    if (config.role !== "gateway") {
      await startupStep("Kling key check", async () => {
        const probe = createKlingClient(config, logger, {
          maxRetries: 0,
          timeoutMs: Math.min(config.kling.timeoutMs, 10_000),
        });
        try {
          await checkKlingKey(probe, logger);
        } finally {
          await probe.close();
        }
      });
    }
    database = await startupStep("database", () =>
      openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger }),
    );
    opened.push(database.close);
    health.attachDatabase(database.db);
    metrics?.attachDatabase(database.db);
  } catch (err) {
    return failStart(err);
  }

  const m = metrics;
  const kling = createKlingClient(config, logger, m ? { onCall: m.klingCall } : {});
  opened.push(() => kling.close());
  const observers: BotObservers = {
    pollerAlive: health.markPollerAlive,
    ...(m ? { rest: (rest) => watchDiscordRest(rest, m) } : {}),
  };
  // Listening before the bot starts: a stop asked for while it starts (its poller may already be working on a
  // job) is carried out as soon as there is a bot to stop, never by Node's default of dying mid-step.
  let askedToStop: string | undefined;
  let started = false;
  const onSignal = (signal: string) => {
    if (started) void shutdown(signal);
    else askedToStop ??= signal;
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startupStep("bot start", () => startBot({ config, logger, database, kling, observers }));
  } catch (err) {
    return failStart(err);
  }
  health.started({ client: bot.client });
  started = true;

  let stopping = false;
  const shutdown = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    health.stopping();
    logger.info({ signal }, "stopping");
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    let code = exitCode;
    try {
      await bot.stop();
    } catch (err) {
      code = 1;
      logger.error({ err }, "error while stopping");
    } finally {
      await kling.close().catch(() => undefined);
      await database.close().catch(() => undefined);
      await server?.close().catch(() => undefined);
    }
    logger.info("stopped");
    logger.flush?.();
    process.exit(code);
  };
  if (askedToStop) void shutdown(askedToStop);
  // A lost database connection is no bug of ours: the query that needed it got its own error, and answered
  // its command. A rejection of one that nobody handled (the driver drops some of its own, see
  // patches/README.md) is logged and the bot goes on. Any other is a bug: stop as Node would (exit 1),
  // but cleanly, letting the commands in hand finish.
  process.on("unhandledRejection", (reason) => {
    if (isConnectionError(reason)) {
      logger.warn({ err: reason }, "unhandled rejection: lost database connection");
      return;
    }
    logger.error({ err: reason }, "unhandled rejection");
    void shutdown("unhandledRejection", 1);
  });
}

main().catch((err) => {
  console.error(`fatal: ${describeError(err)}`);
  process.exit(1);
});
