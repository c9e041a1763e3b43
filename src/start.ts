/**
 * The entry point (`npm start`, the Docker image): check the Node version before anything that could fail on an
 * older one is loaded. This file imports nothing at first, so it runs on any Node that reads ES modules; the bot
 * itself is loaded only once the check has passed.
 */

const REQUIRED_MAJOR = 24;

const found = process.versions.node;
if (Number(found.split(".")[0]) < REQUIRED_MAJOR) {
  console.error(`kling-discord-bot needs Node ${REQUIRED_MAJOR} or later (found ${found})`);
  process.exit(1);
}
// `MEMORY_MODE` (see README, Configuration): V8's settings are chosen here, before the bot is loaded and the
// embedded database's WebAssembly compiled.
const [{ memoryFlags, readProcessEnv }, { setFlagsFromString }] = await Promise.all([
  import("./config.js"),
  import("node:v8"),
]);
for (const flag of memoryFlags(readProcessEnv())) setFlagsFromString(flag);
await import("./main.js");
