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
const { existsSync } = await import("node:fs");
if (existsSync(".env")) process.loadEnvFile(".env");
// `MEMORY_MODE` (see README, Configuration): V8's settings are chosen here, before anything is compiled.
// Another value than these two is refused with the other settings' problems when the configuration is read.
if (process.env.MEMORY_MODE?.trim() !== "fast") {
  const { setFlagsFromString } = await import("node:v8");
  // A heap kept small (more frequent, smaller collections) instead of one grown for throughput.
  setFlagsFromString("--optimize-for-size");
  if (!process.env.DATABASE_URL?.trim()) {
    // The embedded Postgres is WebAssembly: run on V8's baseline compiler only. Its optimising tier keeps
    // some 65 MiB of compiled code and compiler memory for about 20 % more statements per second.
    setFlagsFromString("--no-wasm-tier-up");
    setFlagsFromString("--no-wasm-dynamic-tiering");
  }
}
await import("./main.js");
