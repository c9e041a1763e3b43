import { existsSync } from "node:fs";
import { resolve } from "node:path";
import pino from "pino";
import { ConfigError, loadConfig } from "../config.js";
import { DatabaseLockedError, openDatabase } from "../db/database.js";
import { LedgerError } from "../ledger/index.js";
import { createLogger } from "../log.js";
import { parseAdminArgs, USAGE, UsageError } from "./args.js";
import { json } from "./format.js";
import { runAdminCommand, UnknownGuildError } from "./verbs.js";

const EXIT_OK = 0;
const EXIT_ERROR = 1;
const EXIT_USAGE = 2;

interface AdminIo {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  now: () => Date;
}

/**
 * `npm run admin -- <verb> …`: check the arguments, open the bot's database (the same `loadConfig` and
 * `openDatabase` as the bot), run the verb, print the result. Returns the exit status: 0 done, 2 bad
 * arguments (with what to change), 1 an error (with what happened).
 */
export async function runAdmin(argv: readonly string[], io: AdminIo): Promise<number> {
  let request: ReturnType<typeof parseAdminArgs>;
  try {
    request = parseAdminArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`Bad arguments: ${err.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { command } = request;
  if (command.verb === "help") {
    io.out(USAGE);
    return EXIT_OK;
  }
  try {
    const config = loadConfig(io.env);
    // Logs go to stderr (stdout is the answer), warnings and worse unless LOG_LEVEL asks for more detail.
    const logger = createLogger({
      level: config.logLevel === "info" ? "warn" : config.logLevel,
      destination: pino.destination({ dest: 2, sync: true }),
    });
    if (!config.databaseUrl && !existsSync(config.dataDir)) {
      // Without this, a command run from the wrong folder would quietly create an empty database there.
      io.err(
        `No embedded database in ${resolve(config.dataDir)} (DATA_DIR). Run the command in the bot's folder, ` +
          "or set DATA_DIR (or DATABASE_URL) as the bot has it.",
      );
      return EXIT_ERROR;
    }
    const handle = await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      logger,
      poolSize: 2,
    });
    try {
      const result = await runAdminCommand(handle.db, command, io.now());
      io.out(request.json ? json(result.data) : result.text);
      return EXIT_OK;
    } finally {
      await handle.close();
    }
  } catch (err) {
    io.err(describeFailure(err));
    return EXIT_ERROR;
  }
}

function describeFailure(err: unknown): string {
  if (err instanceof DatabaseLockedError) {
    return (
      `The embedded database in ${err.dir} is in use by another process (pid ${err.pid}), most likely the bot.\n` +
      "PGlite admits one process at a time: stop the bot, run this command again, then start the bot.\n" +
      "(On a Postgres server, with DATABASE_URL, admin commands work while the bot runs.)"
    );
  }
  if (err instanceof ConfigError) return err.message;
  if (err instanceof LedgerError || err instanceof UnknownGuildError) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  return `admin failed: ${message}`;
}
