import type { KlingModel } from "../kling/types.js";
import { findBlocked } from "./blocklist.js";
import type { GuildSettingsValue } from "./settings.js";

/**
 * The server's rules for a video request, cheapest first. These need nothing but the request and the
 * settings; the ones that count (frozen members, jobs in flight, the daily cap, the balance) run in the
 * transaction that holds the credits (jobs/accept.ts), in the order the README gives.
 */

export type Refusal =
  | { rule: "channel" }
  | { rule: "role" }
  | { rule: "frozen"; reason: string | null }
  | { rule: "blocklist"; phrase: string }
  | { rule: "model"; model: string; allowed: string[] }
  | { rule: "duration"; duration: number; max: number }
  | { rule: "sound" }
  | { rule: "member-jobs"; limit: number }
  | { rule: "server-jobs"; limit: number }
  | { rule: "daily-cap"; cap: number; spent: number; cost: number };

/** What the rules look at, of where a request comes from and what it asks for. */
export interface RequestFacts {
  channelId: string;
  /** The channel's parent when it is a thread: a thread of an allowed channel is allowed. */
  parentChannelId?: string | null;
  memberRoleIds: readonly string[];
  model: string;
  duration: number | undefined;
  sound: boolean | undefined;
  texts: readonly (string | undefined)[];
}

/** The allowed channels (a thread of an allowed channel counts) and roles. */
export function checkPlace(
  settings: GuildSettingsValue,
  facts: Pick<RequestFacts, "channelId" | "parentChannelId" | "memberRoleIds">,
): Refusal | undefined {
  if (
    settings.channels.length > 0 &&
    !settings.channels.includes(facts.channelId) &&
    !(facts.parentChannelId && settings.channels.includes(facts.parentChannelId))
  ) {
    return { rule: "channel" };
  }
  if (settings.roles.length > 0 && !facts.memberRoleIds.some((r) => settings.roles.includes(r))) {
    return { rule: "role" };
  }
  return undefined;
}

/** The rules on what is asked for (after who and where, and the frozen check, which needs the database). */
export function checkContent(settings: GuildSettingsValue, facts: RequestFacts): Refusal | undefined {
  const phrase = findBlocked(facts.texts, settings.blocklist);
  if (phrase) return { rule: "blocklist", phrase };
  if (settings.allowedModels.length > 0 && !settings.allowedModels.includes(facts.model as KlingModel)) {
    return { rule: "model", model: facts.model, allowed: [...settings.allowedModels] };
  }
  if (
    settings.maxDuration !== undefined &&
    facts.duration !== undefined &&
    facts.duration > settings.maxDuration
  ) {
    return { rule: "duration", duration: facts.duration, max: settings.maxDuration };
  }
  if (!settings.allowSound && facts.sound === true) return { rule: "sound" };
  return undefined;
}
