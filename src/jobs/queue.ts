import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../db/database.js";
import { jobs } from "../db/schema.js";
import type { JobRow } from "./repository.js";

/**
 * The queue in front of the API account. The account runs at most `cap` tasks at once (Kling counts a task
 * from its submit until it ends), so a job is sent only while fewer than `cap` jobs are being sent or running,
 * counted in the database: every process shares the one cap. Waiting jobs are served round-robin across
 * servers: each server's first waiting job before anyone's second, and among those, servers with fewer tasks
 * running first; within a server, first come, first served.
 */

/** Serialises the queue's claims across processes (a transaction-scoped advisory lock: one bigint key). */
const QUEUE_LOCK_KEY = 0x6b62_7175_6575; // "kbque"

/** A waiting job: pending, not waiting for a manager. */
export const waiting = sql`${jobs.state} = 'pending' and not ${jobs.needsApproval}`;

/**
 * Jobs that hold a place on the API account: being sent, running, or claimed by a process to be sent next
 * (a live lease on a waiting job), so two processes cannot both fill the last free place.
 */
function holdingPlace(now: Date) {
  return sql`(${jobs.state} in ('submitting', 'running') or (${waiting} and ${jobs.leaseExpiresAt} > ${now.toISOString()}::timestamptz))`;
}

/** The waiting jobs in the order they will be sent: `turn` is a job's rank among its server's waiting jobs. */
function orderedWaiting(now: Date, options: { dueOnly: boolean; exclude: readonly number[] }) {
  const due = options.dueOnly
    ? sql`and ${jobs.nextPollAt} <= ${now.toISOString()}::timestamptz
          and (${jobs.leaseExpiresAt} is null or ${jobs.leaseExpiresAt} < ${now.toISOString()}::timestamptz)`
    : sql``;
  const exclude = options.exclude.length
    ? sql`and ${jobs.id} not in (${sql.join(
        options.exclude.map((id) => sql`${id}`),
        sql`, `,
      )})`
    : sql``;
  return sql`
    with candidates as (
      select ${jobs.id} as id, ${jobs.guildId} as guild_id, ${jobs.createdAt} as created_at,
             row_number() over (partition by ${jobs.guildId} order by ${jobs.createdAt}, ${jobs.id}) as turn
      from ${jobs}
      where ${waiting} ${due} ${exclude}
    ),
    running as (
      select ${jobs.guildId} as guild_id, count(*) as tasks
      from ${jobs}
      where ${jobs.state} in ('submitting', 'running')
        and ${jobs.guildId} in (select guild_id from candidates)
      group by ${jobs.guildId}
    )
    select c.id, row_number() over (
             order by c.turn, coalesce(r.tasks, 0), c.created_at, c.id
           ) as place
    from candidates c left join running r on r.guild_id = c.guild_id`;
}

/** How many places on the API account are taken now. */
export async function placesTaken(db: Database, now: Date): Promise<number> {
  const [row] = await db.select({ n: sql<string>`count(*)` }).from(jobs).where(holdingPlace(now));
  return Number(row?.n ?? 0);
}

/**
 * Claim the next waiting jobs for this process to send: as many as the account has free places (and the
 * process free slots), in queue order, each with a lease. Claims of all processes are serialised by an
 * advisory lock, so the count they see is the count they leave.
 */
export async function claimQueuedJobs(
  db: Database,
  options: {
    owner: string;
    limit: number;
    cap: number;
    leaseMs: number;
    now: Date;
    exclude?: readonly number[];
  },
): Promise<{ jobs: JobRow[]; full: boolean }> {
  const { owner, limit, cap, leaseMs, now, exclude = [] } = options;
  if (limit <= 0) return { jobs: [], full: false };
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${QUEUE_LOCK_KEY})`);
    const free = cap - (await placesTaken(tx, now));
    if (free <= 0) return { jobs: [], full: true };
    const picked = await queryRows<{ id: number | string }>(
      tx,
      sql`select id from (${orderedWaiting(now, { dueOnly: true, exclude })}) q order by place limit ${Math.min(free, limit)}`,
    );
    const ids = picked.map((r) => Number(r.id));
    if (ids.length === 0) return { jobs: [], full: false };
    const leased = await tx
      .update(jobs)
      .set({ leaseOwner: owner, leaseExpiresAt: new Date(now.getTime() + leaseMs) })
      .where(
        sql`${jobs.id} in (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )}) and ${waiting}`,
      )
      .returning();
    // Keep the queue's order: the first claimed is the first sent.
    const order = new Map(ids.map((id, i) => [id, i]));
    return { jobs: leased.sort((a, b) => order.get(a.id)! - order.get(b.id)!), full: false };
  });
}

/**
 * Every waiting job's place in the queue (1 = sent next), counting only jobs that wait for a place on the
 * account (a job paused after a refusal keeps its place).
 */
export async function queuePlaces(db: Database, now: Date): Promise<Map<number, number>> {
  const rows = await queryRows<{ id: number | string; place: number | string }>(
    db,
    sql`select id, place from (${orderedWaiting(now, { dueOnly: false, exclude: [] })}) q`,
  );
  return new Map(rows.map((r) => [Number(r.id), Number(r.place)]));
}

/** A job's place in the queue, or undefined when it no longer waits. */
export async function queuePlace(
  db: Database,
  job: Pick<JobRow, "id">,
  now: Date,
): Promise<number | undefined> {
  return (await queuePlaces(db, now)).get(job.id);
}
