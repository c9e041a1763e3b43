import { ConfigError, loadConfig } from "./config.js";
import { copyDatabase } from "./db/copy.js";
import { openDatabase } from "./db/database.js";
import { createLogger } from "./log.js";

/**
 * `DATABASE_URL=postgres://… npm run db:copy`: copy the embedded database in DATA_DIR into the (new, empty)
 * Postgres database of DATABASE_URL. Stop the bot first: PGlite admits one process.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, pretty: config.logPretty });
  if (!config.databaseUrl) {
    throw new ConfigError(["DATABASE_URL: set it to the Postgres database to copy into"]);
  }
  const from = await openDatabase({ dataDir: config.dataDir, logger });
  try {
    const to = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
    try {
      const report = await copyDatabase(from.db, to.db);
      logger.info({ ...report.rows }, "copied; start the bot with DATABASE_URL set");
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
