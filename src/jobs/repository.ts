import {
  and,
  desc,
  eq,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  ne,
  notInArray,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
import type { Database } from "../db/database.js";
import { PRESENCE_LOCK_NAMESPACE } from "../db/presence.js";
import { jobs } from "../db/schema.js";
import { ACTIVE_STATES, type JobState, statesLeadingTo } from "./states.js";

/** Queries on jobs. Every query on guild-owned rows that comes from a member filters by guild id. */

export type JobRow = typeof jobs.$inferSelect;

/**
 * Compare-and-set: move a job to `to` only from a state allowed to lead there (and, when given, only
 * while `owner` holds its lease). Returns the updated row, or undefined when the job had moved on.
 */
export async function transitionJob(
  db: Database,
  id: number,
  to: JobState,
  patch: Partial<typeof jobs.$inferInsert> = {},
  options: { from?: readonly JobState[]; owner?: string } = {},
): Promise<JobRow | undefined> {
  const from = options.from ?? statesLeadingTo(to);
  const conditions = [eq(jobs.id, id), inArray(jobs.state, [...from])];
  if (options.owner) conditions.push(eq(jobs.leaseOwner, options.owner));
  const [row] = await db
    .update(jobs)
    .set({ ...patch, state: to, updatedAt: sql`now()` })
    .where(and(...conditions))
    .returning();
  return row;
}

/**
 * Claim due jobs for this process. `FOR UPDATE SKIP LOCKED` lets any number of processes poll one
 * database: a row another process is claiming is skipped, and a lease keeps it ours until it expires.
 */
export async function claimDueJobs(
  db: Database,
  options: {
    owner: string;
    limit: number;
    leaseMs: number;
    now: Date;
    exclude?: readonly number[];
    /** Only jobs in these states (default: every state that can still move). */
    states?: readonly JobState[];
    /**
     * Also take over a lease whose owner holds no presence lock (a dead process; Postgres only, see
     * db/presence.ts), without waiting for the lease to run out.
     */
    deadOwners?: boolean;
    /** A further condition on the rows. */
    where?: SQL | undefined;
  },
): Promise<JobRow[]> {
  const { owner, limit, leaseMs, now, exclude = [], states = ACTIVE_STATES } = options;
  const ownerGone = options.deadOwners
    ? sql`not exists (
        select 1 from pg_locks l
        where l.locktype = 'advisory' and l.classid = ${PRESENCE_LOCK_NAMESPACE}
          and l.objid = hashtext(${jobs.leaseOwner})::oid and l.objsubid = 2
          and l.database = (select oid from pg_database where datname = current_database()))`
    : undefined;
  const leaseUntil = new Date(now.getTime() + leaseMs);
  return db.transaction(async (tx) => {
    const due = await tx
      .select({ id: jobs.id })
      .from(jobs)
      .where(
        and(
          inArray(jobs.state, [...states]),
          lte(jobs.nextPollAt, now),
          or(isNull(jobs.leaseExpiresAt), lt(jobs.leaseExpiresAt, now), ownerGone),
          // Never a job this process is still working on, whatever its lease says.
          exclude.length ? notInArray(jobs.id, [...exclude]) : undefined,
          options.where,
        ),
      )
      .orderBy(jobs.nextPollAt)
      .limit(limit)
      .for("update", { skipLocked: true });
    if (due.length === 0) return [];
    return tx
      .update(jobs)
      .set({ leaseOwner: owner, leaseExpiresAt: leaseUntil })
      .where(
        inArray(
          jobs.id,
          due.map((d) => d.id),
        ),
      )
      .returning();
  });
}

/**
 * Take back every lease at once. Only where no other process can hold one: PGlite's folder lock proves that
 * the process that held them is gone.
 */
export async function releaseAllLeases(db: Database): Promise<number> {
  const rows = await db
    .update(jobs)
    .set({ leaseOwner: null, leaseExpiresAt: null })
    .where(isNotNull(jobs.leaseOwner))
    .returning({ id: jobs.id });
  return rows.length;
}

/** Give a job back to the queue: due again at `nextPollAt`, lease dropped (and the attempt counted). */
export async function releaseLease(
  db: Database,
  id: number,
  owner: string,
  nextPollAt: Date,
  attempts?: number,
  patch: Partial<typeof jobs.$inferInsert> = {},
): Promise<void> {
  await db
    .update(jobs)
    .set({
      ...patch,
      leaseOwner: null,
      leaseExpiresAt: null,
      nextPollAt,
      updatedAt: sql`now()`,
      ...(attempts === undefined ? {} : { attempts }),
    })
    .where(and(eq(jobs.id, id), eq(jobs.leaseOwner, owner)));
}

/** Keep a job this process is working on. */
export async function renewLease(db: Database, id: number, owner: string, until: Date): Promise<void> {
  await db
    .update(jobs)
    .set({ leaseExpiresAt: until })
    .where(and(eq(jobs.id, id), eq(jobs.leaseOwner, owner)));
}

export async function findJobByInteraction(db: Database, interactionId: string): Promise<JobRow | undefined> {
  const [row] = await db.select().from(jobs).where(eq(jobs.interactionId, interactionId)).limit(1);
  return row;
}

export async function findGuildJob(db: Database, guildId: string, id: number): Promise<JobRow | undefined> {
  const [row] = await db
    .select()
    .from(jobs)
    .where(and(eq(jobs.guildId, guildId), eq(jobs.id, id)))
    .limit(1);
  return row;
}

/** A job by the number members see, within their server only. */
export async function findJobByNumber(
  db: Database,
  guildId: string,
  number: number,
): Promise<JobRow | undefined> {
  const [row] = await db
    .select()
    .from(jobs)
    .where(and(eq(jobs.guildId, guildId), eq(jobs.number, number)))
    .limit(1);
  return row;
}

export async function recentJobsOfUser(
  db: Database,
  guildId: string,
  userId: string,
  limit: number,
): Promise<JobRow[]> {
  return db
    .select()
    .from(jobs)
    .where(and(eq(jobs.guildId, guildId), eq(jobs.userId, userId)))
    .orderBy(desc(jobs.createdAt), desc(jobs.id))
    .limit(limit);
}

export async function jobsInFlight(db: Database, guildId: string): Promise<JobRow[]> {
  return db
    .select()
    .from(jobs)
    .where(and(eq(jobs.guildId, guildId), inArray(jobs.state, [...ACTIVE_STATES])))
    .orderBy(jobs.createdAt)
    .limit(25);
}

/**
 * When the next job falls due that this process could take: the earliest `next_poll_at` (or lease expiry, for
 * a job another process holds) among the jobs that can still move, leaving out this process's own and, when
 * `queued` is false (the API account is full), the jobs waiting to be sent.
 */
export async function nextDueAt(
  db: Database,
  options: { exclude: readonly number[]; queued: boolean },
): Promise<Date | undefined> {
  const [row] = await db
    .select({
      at: sql<
        string | Date | null
      >`min(greatest(${jobs.nextPollAt}, coalesce(${jobs.leaseExpiresAt}, ${jobs.nextPollAt})))`,
    })
    .from(jobs)
    .where(
      and(
        inArray(jobs.state, [...ACTIVE_STATES]),
        options.exclude.length ? notInArray(jobs.id, [...options.exclude]) : undefined,
        options.queued ? undefined : or(ne(jobs.state, "pending"), eq(jobs.needsApproval, true)),
      ),
    );
  return row?.at ? new Date(row.at) : undefined;
}

/** Credits held for a guild's jobs not yet settled (settled jobs were captured or released). */
export async function heldCredits(db: Database, guildId: string): Promise<number> {
  const [row] = await db
    .select({ held: sql<string | null>`sum(${jobs.estimatedCost})` })
    .from(jobs)
    .where(
      and(eq(jobs.guildId, guildId), inArray(jobs.state, ["pending", "submitting", "running", "delivering"])),
    );
  return Number(row?.held ?? 0);
}

/** Median run time of the latest finished jobs of one task type, for the estimate of time left. */
export async function typicalRunTimeMs(
  db: Database,
  taskType: string,
  sample = 20,
): Promise<number | undefined> {
  const times = (await runTimesMs(db, [eq(jobs.taskType, taskType)], sample)).sort((a, b) => a - b);
  if (times.length === 0) return undefined;
  return times[Math.floor(times.length / 2)];
}

/**
 * How long the latest completed jobs of one kind (task type and clip length; `undefined` for a video edit,
 * whose length the API chooses) took from submit to being found finished, for planning status checks.
 */
export async function recentRunTimesMs(
  db: Database,
  taskType: string,
  duration: number | undefined,
  sample = 50,
): Promise<number[]> {
  const length = sql`${jobs.request} #>> '{generate,duration}'`;
  return runTimesMs(
    db,
    [
      eq(jobs.taskType, taskType),
      duration === undefined ? sql`${length} is null` : sql`${length} = ${String(duration)}`,
    ],
    sample,
  );
}

/** Submit → found finished of the latest completed jobs that match `where`, newest first. */
async function runTimesMs(db: Database, where: SQL[], sample: number): Promise<number[]> {
  const rows = await db
    .select({ submittedAt: jobs.submittedAt, finishedAt: jobs.finishedAt })
    .from(jobs)
    .where(
      and(...where, eq(jobs.state, "completed"), isNotNull(jobs.submittedAt), isNotNull(jobs.finishedAt)),
    )
    .orderBy(desc(jobs.finishedAt))
    .limit(sample);
  return rows
    .map((r) =>
      r.finishedAt && r.submittedAt ? r.finishedAt.getTime() - r.submittedAt.getTime() : Number.NaN,
    )
    .filter((t) => Number.isFinite(t) && t > 0);
}

/** Jobs whose tasks run now, and how many of them were submitted since `since` (the recent submit rate). */
export async function runningJobLoad(
  db: Database,
  since: Date,
): Promise<{ running: number; submittedSince: number }> {
  const [row] = await db
    .select({
      running: sql<string>`count(*)`,
      submittedSince: sql<string>`count(*) filter (where ${jobs.submittedAt} > ${since.toISOString()}::timestamptz)`,
    })
    .from(jobs)
    .where(eq(jobs.state, "running"));
  return { running: Number(row?.running ?? 0), submittedSince: Number(row?.submittedSince ?? 0) };
}
