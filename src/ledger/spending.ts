import { sql } from "drizzle-orm";
import { z } from "zod";
import { type Database, queryRows } from "../db/database.js";
import { creditLedger, jobs } from "../db/schema.js";
import { rawInteger } from "./raw.js";

interface SpendingQuery {
  guildId: string;
  /** Jobs settled at or after this time. */
  since: Date;
  /** Jobs settled before this time; none: up to now. */
  until?: Date;
}

interface Spending {
  userId: string;
  /** The job's task type (`pro-text-to-video` …). */
  taskType: string;
  /** Jobs settled in the period. */
  jobs: number;
  /** What they cost the guild. */
  credits: number;
}

const spendingRow = z.object({
  user_id: z.string(),
  task_type: z.string(),
  jobs: rawInteger,
  credits: rawInteger,
});

/**
 * What a guild's members spent in a period, per member and task type: the jobs captured in it (a job is
 * captured once its video is delivered, in the transaction that completes it) and what they cost the guild —
 * the hold less the unused part given back, plus any excess the API charged that the balance covered: the sum
 * of the job's ledger rows. A job counts in the period of its capture, whenever it was asked for. Failed and
 * cancelled jobs cost nothing (their hold went back); credits still held by jobs in flight are not spent yet.
 * Most credits first, then by member and type.
 */
export async function getSpending(db: Database, query: SpendingQuery): Promise<Spending[]> {
  const { guildId, since, until } = query;
  const rows = await queryRows(
    db,
    sql`
    select j.user_id, j.task_type, count(*) as jobs, coalesce(sum(cost.credits), 0) as credits
    from ${creditLedger} c
    join ${jobs} j on j.id = c.job_id and j.guild_id = c.guild_id
    cross join lateral (
      select -sum(l.amount) as credits from ${creditLedger} l
      where l.job_id = c.job_id and l.guild_id = c.guild_id
    ) cost
    where c.guild_id = ${guildId} and c.kind = 'capture'
      and c.created_at >= ${since.toISOString()}::timestamptz
      and ${until === undefined ? sql`true` : sql`c.created_at < ${until.toISOString()}::timestamptz`}
    group by j.user_id, j.task_type
    order by credits desc, j.user_id, j.task_type`,
  );
  return z
    .array(spendingRow)
    .parse(rows)
    .map((r) => ({ userId: r.user_id, taskType: r.task_type, jobs: r.jobs, credits: r.credits }));
}
