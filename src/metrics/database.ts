import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../db/database.js";
import { JOB_STATES, type JobState } from "../jobs/states.js";

/**
 * What the metrics read from the database at scrape time: two grouped queries, one over the jobs and one over
 * the credit ledger. Every process on one database reports the same figures (they are the database's, not the
 * process's): aggregate them with `max`, not `sum`.
 */

export interface JobFigures {
  byState: Record<JobState, number>;
  /** Jobs accepted and not yet sent to the API (`pending`, not waiting for a manager's approval). */
  queued: number;
  /** How long the oldest of those has waited, in seconds (0 when none waits). */
  oldestWaitSeconds: number;
}

export interface GuildCredits {
  guildId: string;
  /** Credits held right now by jobs not yet settled. */
  held: number;
  /** Credits charged for delivered videos (the hold minus what was given back, plus any adjustment). */
  captured: number;
  /** Credits given back in full for failed jobs. */
  released: number;
}

export async function readJobFigures(db: Database): Promise<JobFigures> {
  const rows = await queryRows<{ state: string; jobs: unknown; queued: unknown; oldest: unknown }>(
    db,
    sql`select state::text as state,
          count(*)::float8 as jobs,
          (count(*) filter (where state = 'pending' and not needs_approval))::float8 as queued,
          extract(epoch from now() - min(created_at) filter (where state = 'pending' and not needs_approval))::float8
            as oldest
        from jobs group by state`,
  );
  const byState = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  let queued = 0;
  let oldestWaitSeconds = 0;
  for (const row of rows) {
    if ((JOB_STATES as readonly string[]).includes(row.state))
      byState[row.state as JobState] = Number(row.jobs);
    queued += Number(row.queued ?? 0);
    if (row.oldest !== null && row.oldest !== undefined) {
      oldestWaitSeconds = Math.max(oldestWaitSeconds, Number(row.oldest));
    }
  }
  return { byState, queued, oldestWaitSeconds };
}

/** Per-server credit movements of jobs, from the ledger (grants are not job movements and are left out). */
export async function readGuildCredits(db: Database): Promise<GuildCredits[]> {
  const rows = await queryRows<{ guild_id: string; held: unknown; captured: unknown; released: unknown }>(
    db,
    sql`select guild_id,
          coalesce(sum(-hold) filter (where not settled), 0)::float8 as held,
          coalesce(sum(-(hold + capture + adjustment)) filter (where captured), 0)::float8 as captured,
          coalesce(sum(release), 0)::float8 as released
        from (
          select guild_id, job_id,
            coalesce(sum(amount) filter (where kind = 'hold'), 0) as hold,
            coalesce(sum(amount) filter (where kind = 'capture'), 0) as capture,
            coalesce(sum(amount) filter (where kind = 'adjustment'), 0) as adjustment,
            coalesce(sum(amount) filter (where kind = 'release'), 0) as release,
            bool_or(kind = 'capture') as captured,
            bool_or(kind in ('capture', 'release')) as settled
          from credit_ledger where job_id is not null
          group by guild_id, job_id
        ) per_job
        group by guild_id`,
  );
  return rows.map((r) => ({
    guildId: r.guild_id,
    held: Number(r.held),
    captured: Number(r.captured),
    released: Number(r.released),
  }));
}

export const OTHER_GUILDS = "other";

/**
 * Bound the label's cardinality: the `top` servers with the most credits moved keep their own label, the rest
 * are summed under "other" (present only when there is a rest).
 */
export function topGuilds(all: readonly GuildCredits[], top: number): GuildCredits[] {
  const volume = (g: GuildCredits) => g.held + g.captured + g.released;
  const sorted = [...all].sort((a, b) => volume(b) - volume(a) || a.guildId.localeCompare(b.guildId));
  const kept = sorted.slice(0, top);
  const rest = sorted.slice(top);
  if (rest.length === 0) return kept;
  const other: GuildCredits = { guildId: OTHER_GUILDS, held: 0, captured: 0, released: 0 };
  for (const g of rest) {
    other.held += g.held;
    other.captured += g.captured;
    other.released += g.released;
  }
  return [...kept, other];
}
