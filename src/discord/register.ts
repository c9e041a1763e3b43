import { type REST, Routes } from "discord.js";
import { registrationBodies } from "../../commands/index.js";
import type { Logger } from "../log.js";

/**
 * Register the commands (in one guild when `guildId` is set: instant; else globally). Discord allows
 * 200 command creates a day per guild, so the registered set is compared first and only rewritten
 * when it differs.
 */
export async function registerCommands(
  rest: REST,
  applicationId: string,
  guildId: string | undefined,
  logger: Logger,
): Promise<"unchanged" | "updated"> {
  const route = guildId
    ? Routes.applicationGuildCommands(applicationId, guildId)
    : Routes.applicationCommands(applicationId);
  const wanted = registrationBodies();
  // Discord leaves the localizations out of the list unless asked, and they are part of what is compared.
  const current = (await rest.get(route, {
    query: new URLSearchParams({ with_localizations: "true" }),
  })) as unknown[];
  if (sameCommands(current, wanted)) {
    logger.info({ scope: guildId ? "guild" : "global" }, "commands already registered");
    return "unchanged";
  }
  await rest.put(route, { body: wanted });
  logger.info({ scope: guildId ? "guild" : "global", count: wanted.length }, "commands registered");
  return "updated";
}

/** Compare only what we send: Discord adds ids, versions and defaults to what it returns. */
function sameCommands(current: unknown[], wanted: unknown[]): boolean {
  if (current.length !== wanted.length) return false;
  const byName = new Map(current.map((c) => [(c as { name: string }).name, c]));
  return wanted.every((w) => {
    const c = byName.get((w as { name: string }).name);
    return c !== undefined && covers(c, w);
  });
}

function covers(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => covers(actual[i], e))
    );
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object") return false;
    return Object.entries(expected).every(([k, v]) => covers((actual as Record<string, unknown>)[k], v));
  }
  return actual === expected;
}
