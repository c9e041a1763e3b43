import type { Config } from "../config.js";

/**
 * discord.js's REST sends files with the global FormData through its own bundled undici, which breaks once
 * a newer undici (ours) is loaded in the same process (discordjs/discord.js#11525). Node's fetch keeps the
 * body and the transport in one implementation.
 */
export function restOptions(config: Config) {
  return { ...(config.discordApiUrl ? { api: config.discordApiUrl } : {}), makeRequest: fetch as never };
}
