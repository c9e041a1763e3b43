import { and, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { creditLedger, jobs } from "../db/schema.js";

interface UsageQuery {
  guildId: string;
  userId?: string;
  /** Jobs created at or after this time. */
  since?: Date;
  /** Jobs created before this time. */
  until?: Date;
}

interface UserUsage {
  userId: string;
  /**
   * Credits the user's jobs cost the guild: holds − releases − capture refunds + adjustments taken. A job
   * still in flight counts with its full hold (those credits are gone from the balance until it ends).
   */
  charged: number;
  /** The part of `charged` that is still only held by jobs in flight. */
  held: number;
  jobs: number;
  completed: number;
  failed: number;
}

interface Usage extends Omit<UserUsage, "userId"> {
  guildId: string;
  /** Per user, most credits first. */
  users: UserUsage[];
}

/** Credits spent and jobs made in a guild (optionally for one user, and by job creation time). */
export async function getUsage(db: Database, query: UsageQuery): Promise<Usage> {
  const { guildId, userId, since, until } = query;
  const where: SQL[] = [eq(jobs.guildId, guildId)];
  if (userId !== undefined) where.push(eq(jobs.userId, userId));
  if (since) where.push(gte(jobs.createdAt, since));
  if (until) where.push(lt(jobs.createdAt, until));
  // Per job first (so the counts are of jobs, not of ledger rows), then per user.
  const perJob = db
    .select({
      userId: jobs.userId,
      state: jobs.state,
      charged: sql`coalesce(-sum(${creditLedger.amount}), 0)`.as("charged"),
      held: sql`case when bool_or(${creditLedger.kind} in ('capture', 'release')) then 0
        else coalesce(-sum(${creditLedger.amount}), 0) end`.as("held"),
    })
    .from(jobs)
    .leftJoin(creditLedger, and(eq(creditLedger.jobId, jobs.id), eq(creditLedger.guildId, jobs.guildId)))
    .where(and(...where))
    .groupBy(jobs.id)
    .as("per_job");
  const rows = await db
    .select({
      userId: perJob.userId,
      charged: sql`sum(${perJob.charged})`.mapWith(Number),
      held: sql`sum(${perJob.held})`.mapWith(Number),
      jobs: sql`count(*)`.mapWith(Number),
      completed: sql`count(*) filter (where ${perJob.state} = 'completed')`.mapWith(Number),
      failed: sql`count(*) filter (where ${perJob.state} = 'failed')`.mapWith(Number),
    })
    .from(perJob)
    .groupBy(perJob.userId)
    .orderBy(sql`sum(${perJob.charged}) desc`, perJob.userId);
  const total = { charged: 0, held: 0, jobs: 0, completed: 0, failed: 0 };
  for (const r of rows) {
    total.charged += r.charged;
    total.held += r.held;
    total.jobs += r.jobs;
    total.completed += r.completed;
    total.failed += r.failed;
  }
  return { guildId, ...total, users: rows };
}
