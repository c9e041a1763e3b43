import { createKlingClient, startBot } from "./bot.js";
import { ConfigError, loadConfig } from "./config.js";
import { openDatabase } from "./db/database.js";
import { isConnectionError } from "./db/transient.js";
import { createLogger } from "./log.js";

/** `npm start`: run the bot until SIGTERM or SIGINT. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
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
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  const kling = createKlingClient(config, logger);
  const bot = await startBot({ config, logger, database, kling });

  let stopping = false;
  const shutdown = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
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
    }
    logger.info("stopped");
    logger.flush?.();
    process.exit(code);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
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
  console.error("fatal:", err instanceof Error ? err.message : err);
  process.exit(1);
});
