import { type APIRequest, type REST, RESTEvents, type ResponseLike } from "discord.js";
import type { Metrics } from "./metrics.js";

/**
 * Discord's answers as discord.js REST reports them (its `response` event: every HTTP answer, retries included):
 * errors by status and Discord's JSON code, and how long after its creation each interaction got its first
 * response. Nothing here reads or keeps a token: the interaction id is all the path gives.
 */

const DISCORD_EPOCH = 1_420_070_400_000;
/** `/interactions/{id}/{token}/callback`, the first (and only) response to an interaction. */
const CALLBACK = /^\/interactions\/(\d{17,20})\/[^/]+\/callback/;
/** Distinct status/code pairs kept as labels; a server that invents codes cannot grow the series without end. */
const MAX_ERROR_LABELS = 64;

/** Interaction callback types (Discord's `InteractionResponseType`) by what the bot did. */
const CALLBACK_KIND: Record<number, string> = {
  4: "reply",
  5: "defer",
  6: "update",
  7: "update",
  8: "autocomplete",
  9: "modal",
};

export function watchDiscordRest(rest: REST, metrics: Metrics, now: () => number = Date.now): void {
  const seen = new Set<string>();
  rest.on(RESTEvents.Response, (request: APIRequest, response: ResponseLike) => {
    const callback = CALLBACK.exec(String(request.path));
    if (callback?.[1]) {
      const created = Number((BigInt(callback[1]) >> 22n) + BigInt(DISCORD_EPOCH));
      metrics.deferral.observe(
        { kind: callbackKind(request.data.body), outcome: response.ok ? "ok" : "error" },
        Math.max(0, now() - created) / 1000,
      );
    }
    if (response.status < 400) {
      discard(response);
      return;
    }
    void errorCode(response).then((code) => {
      const status = String(response.status);
      const key = `${status}:${code}`;
      if (!seen.has(key) && seen.size >= MAX_ERROR_LABELS) {
        metrics.discordErrors.inc({ status, code: "other" });
        return;
      }
      seen.add(key);
      metrics.discordErrors.inc({ status, code });
    });
  });
}

function callbackKind(body: unknown): string {
  const type = (body as { type?: unknown } | undefined)?.type;
  return (typeof type === "number" && CALLBACK_KIND[type]) || "other";
}

/** Discord's JSON error code (e.g. 10062 Unknown interaction), or "none" when the body has none. */
async function errorCode(response: ResponseLike): Promise<string> {
  try {
    const body = (await response.json()) as { code?: unknown };
    return typeof body?.code === "number" && Number.isInteger(body.code) ? String(body.code) : "none";
  } catch {
    return "none";
  }
}

/** The event hands us a clone of the answer: let go of its body when we do not read it. */
function discard(response: ResponseLike): void {
  const body = response.body as { cancel?: () => Promise<void> } | null;
  if (body && typeof body.cancel === "function") body.cancel().catch(() => undefined);
}
