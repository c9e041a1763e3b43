import { DefaultRestOptions, type RESTOptions } from "discord.js";
import type { Config } from "../config.js";

type MakeRequest = RESTOptions["makeRequest"];

/** discord.js's own transport: its bundled undici's `request`. */
const undiciRequest: MakeRequest = DefaultRestOptions.makeRequest;

/**
 * discord.js's REST sends files with the global FormData through its own bundled undici, which breaks once
 * a newer undici (ours) is loaded in the same process (discordjs/discord.js#11525). Node's fetch keeps the
 * body and the transport in one implementation, so multipart bodies (file uploads) go through it. Every
 * other call (JSON or no body: deferrals, answers, edits) stays on undici's `request`, which costs about half
 * of what fetch's stream layers do, and matters when hundreds of interactions arrive at once.
 */
const makeRequest: MakeRequest = (url, init) =>
  init.body instanceof FormData ? fetch(url, init as RequestInit) : undiciRequest(url, init);

export function restOptions(config: Config): Partial<RESTOptions> {
  return { ...(config.discordApiUrl ? { api: config.discordApiUrl } : {}), makeRequest };
}
