/**
 * The entry point (`npm start`, the Docker image): check the Node version before anything that could fail on an
 * older one is loaded. This file imports nothing, so it runs on any Node that reads ES modules; the bot itself
 * is loaded only once the check has passed.
 */

const REQUIRED_MAJOR = 24;

const found = process.versions.node;
if (Number(found.split(".")[0]) < REQUIRED_MAJOR) {
  console.error(`kling-discord-bot needs Node ${REQUIRED_MAJOR} or later (found ${found})`);
  process.exit(1);
}
await import("./main.js");
