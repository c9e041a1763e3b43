import { REST, Routes } from "discord.js";
import { ConfigError, loadConfig } from "./config.js";
import { registerCommands } from "./discord/register.js";
import { restOptions } from "./discord/rest.js";
import { createLogger } from "./log.js";

/** `npm run deploy-commands`: register the slash commands without starting the bot. */
async function main(): Promise<void> {
  const config = loadConfig(undefined, ["bot"]);
  const logger = createLogger({
    level: config.logLevel,
    pretty: config.logPretty,
    secrets: [config.discordToken],
  });
  const rest = new REST(restOptions(config)).setToken(config.discordToken!);
  const app = (await rest.get(Routes.currentApplication())) as { id: string };
  const result = await registerCommands(rest, app.id, config.devGuildId, logger);
  logger.info({ result, scope: config.devGuildId ? `guild ${config.devGuildId}` : "global" }, "done");
}

main().catch((err) => {
  console.error(
    err instanceof ConfigError ? err.message : `failed: ${err instanceof Error ? err.message : err}`,
  );
  process.exit(1);
});
