import postgres from "postgres";
import type { Logger } from "../log.js";

/**
 * Processes sharing one Postgres tell each other two things without a table or a timer:
 * - that they live: each holds a session-level advisory lock named by its lease owner id on a connection of
 *   its own. The server drops the lock the moment the process's connection goes (a SIGKILL closes the
 *   socket), so a lease whose owner's lock is free belongs to a dead process and is taken over at once,
 *   instead of after `JOB_LEASE_MS`;
 * - that a job waits: `NOTIFY kling_jobs` in the transaction that stores a job wakes every poller at commit,
 *   so a job accepted by a gateway-only process is picked up by a worker at once.
 */

/** First key of the two-key advisory locks that mark a living process ("kdbp"). */
export const PRESENCE_LOCK_NAMESPACE = 0x6b646270;
export const JOBS_CHANNEL = "kling_jobs";

export interface Presence {
  stop(): Promise<void>;
}

export async function startPresence(options: {
  url: string;
  owner: string;
  logger: Logger;
  onJob: () => void;
  /** How often the lock is checked and taken again after a lost connection. */
  checkEveryMs?: number;
}): Promise<Presence> {
  const { owner, logger } = options;
  const sql = postgres(options.url, {
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    onnotice: () => {},
    connection: { application_name: "kling-discord-bot presence" },
  });
  // A lost connection loses the lock: take it again when missing (re-entrant, so a held lock is left as is).
  const hold = () => sql`
    select pg_advisory_lock(${PRESENCE_LOCK_NAMESPACE}, hashtext(${owner}))
    where not exists (
      select 1 from pg_locks
      where locktype = 'advisory' and pid = pg_backend_pid() and classid = ${PRESENCE_LOCK_NAMESPACE}
        and objid = hashtext(${owner})::oid and objsubid = 2
    )`;
  await hold();
  const listener = await sql.listen(JOBS_CHANNEL, () => options.onJob());
  let failing = false;
  const timer = setInterval(() => {
    hold().then(
      () => {
        if (failing) logger.info("presence lock held again");
        failing = false;
      },
      (err) => {
        if (!failing) logger.warn({ err }, "could not hold the presence lock; retrying");
        failing = true;
      },
    );
  }, options.checkEveryMs ?? 5_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await listener.unlisten().catch(() => undefined);
      await sql.end({ timeout: 2 }).catch(() => undefined);
    },
  };
}
