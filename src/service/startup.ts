import type { KlingApi } from "../kling/client.js";
import { KlingAuthError, KlingInsufficientCreditsError, KlingRequestError } from "../kling/errors.js";
import type { Logger } from "../log.js";

/**
 * Start-up as named steps: a failure says which step failed (database, Kling key check, Discord login, …) and
 * why, down to the root cause (`fetch failed` → `connect ECONNREFUSED 127.0.0.1:443`).
 */

export class StartupError extends Error {
  readonly code = "startup_failed" as const;
  readonly step: string;
  constructor(step: string, cause: unknown, summary?: string) {
    super(`${step} failed: ${summary ?? describeError(cause)}`, { cause });
    this.name = "StartupError";
    this.step = step;
  }
}

/** Run one step of the start; its failure becomes a `StartupError` naming the step (unless it already is one). */
export async function startupStep<T>(step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof StartupError ? err : new StartupError(step, err);
  }
}

/**
 * One line from an error and its causes: each message once, outermost first, with the error code where the
 * message does not name it (`fetch failed: connect ECONNREFUSED 127.0.0.1:9`, `getaddrinfo ENOTFOUND host`).
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const add = (text: string) => {
    const t = text.trim();
    if (t && !parts.some((p) => p.includes(t))) parts.push(t);
  };
  const visit = (e: unknown, depth: number): void => {
    if (e === undefined || e === null || seen.has(e) || depth > 8) return;
    seen.add(e);
    if (!(e instanceof Error)) {
      add(String(e));
      return;
    }
    const code = (e as { code?: unknown }).code;
    const message = e.message.split("\n")[0] ?? "";
    add(typeof code === "string" && !message.includes(code) ? `${message} (${code})`.trim() : message);
    // Happy-eyeballs connects fail with an AggregateError of one error per address tried.
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner)) {
      const subs = inner.map((x) => describeError(x)).filter(Boolean);
      if (subs.length > 0) add([...new Set(subs)].join(", "));
    }
    visit(e.cause, depth + 1);
  };
  visit(err, 0);
  return parts.join(": ") || "unknown error";
}

/** A Discord login failure, with the token named when Discord refused it. */
export function discordLoginError(err: unknown): StartupError {
  const code = (err as { code?: unknown })?.code;
  const status = (err as { status?: unknown })?.status;
  if (code === "TokenInvalid" || status === 401) {
    return new StartupError(
      "Discord login",
      err,
      `DISCORD_TOKEN was refused by Discord (${describeError(err)})`,
    );
  }
  return new StartupError("Discord login", err);
}

/** A task id that cannot exist (the API routes `n75…` ids to Kling 3.0): the API must answer "not found". */
export const KEY_CHECK_TASK_ID = "n75000000000keycheck";

/**
 * Is the API key accepted? One cheap authenticated call, a status read of a task that does not exist: a 401 or
 * 403 is a definite refusal and stops the start; a 4xx about the task means the key was accepted. Anything
 * else (no route, a timeout, a 5xx) proves nothing: it is logged as a warning and the bot starts anyway.
 */
export async function checkKlingKey(kling: KlingApi, logger: Logger): Promise<void> {
  try {
    await kling.status(KEY_CHECK_TASK_ID);
  } catch (err) {
    if (err instanceof KlingAuthError) {
      throw new StartupError(
        "Kling key check",
        err,
        `KLING_API_KEY was refused by the Kling API (HTTP ${err.httpStatus ?? 401})`,
      );
    }
    if (err instanceof KlingInsufficientCreditsError) {
      logger.error(
        { httpStatus: err.httpStatus },
        "the Kling API account is out of credits: jobs will fail until it is topped up",
      );
      return;
    }
    if (err instanceof KlingRequestError) {
      logger.info({ httpStatus: err.httpStatus }, "Kling API key accepted");
      return;
    }
    logger.warn(
      { cause: describeError(err) },
      "could not check KLING_API_KEY at start (the Kling API did not answer); starting anyway",
    );
    return;
  }
  logger.info("Kling API key accepted");
}
