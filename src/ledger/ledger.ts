import { and, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import { type Database, isUniqueViolation, queryPrepared, queryRows } from "../db/database.js";
import { creditLedger, type Guild, guilds, jobs, type LedgerEntry } from "../db/schema.js";

/**
 * The credit ledger: every change to a guild's balance is one append-only row whose `amount` is that
 * change, written in the same statement or transaction as the balance update. So a guild's balance always
 * equals the sum of its ledger (`checkInvariants` proves it), and the balance never goes below zero (a
 * conditional update, and a CHECK constraint underneath).
 *
 * Every function takes the guild id and filters by it: a job of another guild is "not found".
 */

export type LedgerErrorCode =
  | "invalid_amount"
  | "job_not_found"
  | "no_hold"
  | "already_captured"
  | "already_released";

export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  constructor(code: LedgerErrorCode, message: string) {
    super(message);
    this.name = "LedgerError";
    this.code = code;
  }
}

const SYSTEM_ACTOR = "system";

function requireInteger(value: number, what: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new LedgerError(
      "invalid_amount",
      `${what} must be a whole number of at least ${min}, got ${value}`,
    );
  }
}

function jobNotFound(guildId: string, jobId: number): LedgerError {
  return new LedgerError("job_not_found", `Job ${jobId} does not exist in guild ${guildId}`);
}

/** Raw queries return bigint as a string on postgres.js and as a number on PGlite. */
function num(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

// ---------------------------------------------------------------------------------------------------------

/**
 * The guild's row, created on first sight with `initialCredits` (recorded as a "starting credits" grant so
 * that balance = sum of ledger from the first moment). Safe to call on every request and concurrently:
 * the insert is `on conflict do nothing`, so only the process that created the row writes the grant.
 */
export async function ensureGuild(db: Database, guildId: string, initialCredits: number): Promise<Guild> {
  requireInteger(initialCredits, "Initial credits", 0);
  const [existing] = await db.select().from(guilds).where(eq(guilds.id, guildId));
  if (existing) return existing;
  await db.execute(sql`
    with created as (
      insert into ${guilds} (id, balance) values (${guildId}, ${initialCredits}::bigint)
      on conflict (id) do nothing
      returning id, balance
    )
    insert into ${creditLedger} (guild_id, kind, amount, actor_id, reason)
    select id, 'grant', balance, ${SYSTEM_ACTOR}, 'starting credits' from created where balance > 0`);
  const [row] = await db.select().from(guilds).where(eq(guilds.id, guildId));
  if (!row) throw new Error(`Guild ${guildId} vanished right after it was created`);
  return row;
}

export async function getBalance(db: Database, guildId: string): Promise<number> {
  const [row] = await db.select({ balance: guilds.balance }).from(guilds).where(eq(guilds.id, guildId));
  return row?.balance ?? 0;
}

// ---------------------------------------------------------------------------------------------------------

export interface ReserveInput {
  guildId: string;
  userId: string;
  jobId: number;
  amount: number;
}

export type ReserveResult =
  /** `alreadyHeld`: this job's hold existed before the call; nothing more was taken. */
  { ok: true; balance: number; alreadyHeld: boolean } | { ok: false; balance: number; shortfall: number };

/**
 * One statement: the conditional debit and the `hold` row are a data-modifying CTE, so they commit together
 * or not at all, in one round trip. Concurrent reservations serialise on the guild row, and the
 * `balance >= $2` test is re-checked on the latest row version after waiting, so the balance cannot go
 * below zero. The debit also requires the job to be this guild's and to hold nothing yet (idempotency).
 * Prepared: this is the hot path that the benchmark holds against a bare conditional UPDATE.
 */
const RESERVE_SQL = `
with debit as (
  update guilds set balance = balance - $2::bigint, updated_at = now()
  where id = $1::text and balance >= $2::bigint
    and exists (select 1 from jobs where id = $3::bigint and guild_id = $1::text)
    and not exists (
      select 1 from credit_ledger where job_id = $3::bigint and guild_id = $1::text and kind = 'hold'
    )
  returning balance
), hold as (
  insert into credit_ledger (guild_id, user_id, job_id, kind, amount)
  select $1::text, $4::text, $3::bigint, 'hold', -$2::bigint from debit
)
select balance from debit`;

/** Why a reservation took nothing. Run only when it did, so in a fresh snapshot after any competitor. */
const RESERVE_REFUSED_SQL = `
select
  exists (select 1 from jobs where id = $2::bigint and guild_id = $1::text) as job_found,
  exists (
    select 1 from credit_ledger where job_id = $2::bigint and guild_id = $1::text and kind = 'hold'
  ) as held,
  (select balance from guilds where id = $1::text) as balance`;

/**
 * Hold `amount` credits for a job, or refuse with the shortfall (see RESERVE_SQL). Idempotent per job: a
 * repeated call finds the hold and takes nothing. Two calls racing for one job both pass the "no hold yet"
 * test on their snapshots; the second then collides on the unique `(job_id, kind)` index, which undoes its
 * whole statement, debit included, and is answered as already held.
 */
export async function reserveCredits(db: Database, input: ReserveInput): Promise<ReserveResult> {
  requireInteger(input.amount, "A reservation", 1);
  try {
    return await reserveOnce(db, input);
  } catch (err) {
    // Inside a caller's transaction the error has aborted it; only the caller can retry.
    if (!isUniqueViolation(err) || db instanceof PgTransaction) throw err;
    return reserveOnce(db, input);
  }
}

async function reserveOnce(
  db: Database,
  { guildId, userId, jobId, amount }: ReserveInput,
): Promise<ReserveResult> {
  for (let attempt = 0; ; attempt++) {
    const [debited] = await queryPrepared<{ balance: unknown }>(db, "reserve_credits", RESERVE_SQL, [
      guildId,
      amount,
      jobId,
      userId,
    ]);
    if (debited) return { ok: true, balance: num(debited.balance), alreadyHeld: false };
    const [why] = await queryPrepared<{ job_found: boolean; held: boolean; balance: unknown }>(
      db,
      "reserve_credits_refused",
      RESERVE_REFUSED_SQL,
      [guildId, jobId],
    );
    if (!why?.job_found) throw jobNotFound(guildId, jobId);
    const balance = num(why.balance);
    if (why.held) return { ok: true, balance, alreadyHeld: true };
    // Refused on a balance that has grown since (a grant or a refund in between): try again, a few times.
    if (balance >= amount && attempt < 3) continue;
    return { ok: false, balance, shortfall: Math.max(amount - balance, 1) };
  }
}

// ---------------------------------------------------------------------------------------------------------

interface JobMovements {
  userId: string;
  chargedCost: number | null;
  hold: LedgerEntry | undefined;
  capture: LedgerEntry | undefined;
  release: LedgerEntry | undefined;
  adjustment: LedgerEntry | undefined;
}

/**
 * Lock the job (scoped to the guild) and read its movements. `for no key update` serialises settlements of
 * one job without blocking the foreign-key checks (`for key share`) that ledger inserts take on the row.
 */
async function lockJobMovements(tx: Database, guildId: string, jobId: number): Promise<JobMovements> {
  const [job] = await tx
    .select({ userId: jobs.userId, chargedCost: jobs.chargedCost })
    .from(jobs)
    .where(and(eq(jobs.id, jobId), eq(jobs.guildId, guildId)))
    .for("no key update");
  if (!job) throw jobNotFound(guildId, jobId);
  const rows = await tx
    .select()
    .from(creditLedger)
    .where(and(eq(creditLedger.guildId, guildId), eq(creditLedger.jobId, jobId)));
  const of = (kind: LedgerEntry["kind"]) => rows.find((r) => r.kind === kind);
  return {
    userId: job.userId,
    chargedCost: job.chargedCost,
    hold: of("hold"),
    capture: of("capture"),
    release: of("release"),
    adjustment: of("adjustment"),
  };
}

async function addToBalance(tx: Database, guildId: string, delta: number): Promise<number> {
  const [row] = await tx
    .update(guilds)
    .set({ balance: sql`${guilds.balance} + ${delta}::bigint` })
    .where(eq(guilds.id, guildId))
    .returning({ balance: guilds.balance });
  if (!row) throw new Error(`Guild ${guildId} has no row`);
  return row.balance;
}

export interface CaptureInput {
  guildId: string;
  jobId: number;
  /** What the API really charged for the job. */
  charged: number;
}

export interface CaptureResult {
  /** True when this job had been captured before; nothing was written and the figures are the first ones. */
  alreadyCaptured: boolean;
  held: number;
  charged: number;
  /** Unused part of the hold given back. */
  refunded: number;
  /** Extra credits taken because the API charged more than was held. */
  adjusted: number;
  /** Part of that excess the balance could not cover. */
  shortfall: number;
  /** The API charged more than was held: a moderator should look at it. */
  flagged: boolean;
  balance: number;
}

/**
 * Settle a job's hold to what the API charged: a `capture` row gives back the unused part; if the API
 * charged more than was held, an `adjustment` row takes the excess (as much as the balance has) and is
 * flagged. Sets `jobs.charged_cost`. Idempotent; refused after a release.
 */
export async function captureCredits(db: Database, input: CaptureInput): Promise<CaptureResult> {
  const { guildId, jobId, charged } = input;
  requireInteger(charged, "A charge", 0);
  return db.transaction(async (tx) => {
    const m = await lockJobMovements(tx, guildId, jobId);
    if (m.release)
      throw new LedgerError("already_released", `Job ${jobId} was released; it cannot be captured`);
    if (!m.hold) throw new LedgerError("no_hold", `Job ${jobId} holds no credits to capture`);
    const held = -m.hold.amount;
    if (m.capture) {
      const adjusted = -(m.adjustment?.amount ?? 0);
      const recorded = m.chargedCost ?? held - m.capture.amount + adjusted;
      return {
        alreadyCaptured: true,
        held,
        charged: recorded,
        refunded: m.capture.amount,
        adjusted,
        shortfall: Math.max(recorded - held - adjusted, 0),
        flagged: m.adjustment?.flagged ?? false,
        balance: await getBalance(tx, guildId),
      };
    }
    const refunded = Math.max(held - charged, 0);
    const excess = Math.max(charged - held, 0);
    let balance = refunded > 0 ? await addToBalance(tx, guildId, refunded) : await lockedBalance(tx, guildId);
    await tx
      .insert(creditLedger)
      .values({ guildId, userId: m.userId, jobId, kind: "capture", amount: refunded });
    let adjusted = 0;
    if (excess > 0) {
      adjusted = Math.min(excess, balance);
      if (adjusted > 0) balance = await addToBalance(tx, guildId, -adjusted);
      const shortfall = excess - adjusted;
      await tx.insert(creditLedger).values({
        guildId,
        userId: m.userId,
        jobId,
        kind: "adjustment",
        amount: -adjusted,
        actorId: SYSTEM_ACTOR,
        flagged: true,
        reason:
          `The video service charged ${charged} credits, ${excess} more than the ${held} held` +
          (shortfall > 0 ? `; only ${adjusted} could be taken, ${shortfall} short` : ""),
      });
    }
    await tx
      .update(jobs)
      .set({ chargedCost: charged })
      .where(and(eq(jobs.id, jobId), eq(jobs.guildId, guildId)));
    return {
      alreadyCaptured: false,
      held,
      charged,
      refunded,
      adjusted,
      shortfall: excess - adjusted,
      flagged: excess > 0,
      balance,
    };
  });
}

/** The balance, with the guild row locked until the transaction ends (so an adjustment can rely on it). */
async function lockedBalance(tx: Database, guildId: string): Promise<number> {
  const [row] = await tx
    .select({ balance: guilds.balance })
    .from(guilds)
    .where(eq(guilds.id, guildId))
    .for("no key update");
  if (!row) throw new Error(`Guild ${guildId} has no row`);
  return row.balance;
}

export interface ReleaseInput {
  guildId: string;
  jobId: number;
  reason: string;
}

export interface ReleaseResult {
  /**
   * released: the hold went back to the balance now; already_released: by an earlier call;
   * nothing_held: the job never held credits, so there was nothing to give back.
   */
  status: "released" | "already_released" | "nothing_held";
  released: number;
  balance: number;
}

/** Give a job's hold back in full. Idempotent; refused (`already_captured`) once the job was captured. */
export async function releaseCredits(db: Database, input: ReleaseInput): Promise<ReleaseResult> {
  const { guildId, jobId, reason } = input;
  return db.transaction(async (tx) => {
    const m = await lockJobMovements(tx, guildId, jobId);
    if (m.capture)
      throw new LedgerError("already_captured", `Job ${jobId} was captured; it cannot be released`);
    if (m.release) {
      return {
        status: "already_released",
        released: m.release.amount,
        balance: await getBalance(tx, guildId),
      };
    }
    if (!m.hold) return { status: "nothing_held", released: 0, balance: await getBalance(tx, guildId) };
    const released = -m.hold.amount;
    const balance = await addToBalance(tx, guildId, released);
    await tx
      .insert(creditLedger)
      .values({ guildId, userId: m.userId, jobId, kind: "release", amount: released, reason });
    return { status: "released", released, balance };
  });
}

// ---------------------------------------------------------------------------------------------------------

export interface GrantInput {
  guildId: string;
  /** Credits to add; negative to take some away (never below zero). */
  amount: number;
  actorId: string;
  reason: string;
}

export interface GrantResult {
  requested: number;
  /** The change actually made: equals `requested` unless a negative grant met a smaller balance. */
  applied: number;
  balance: number;
  entryId: number;
}

/**
 * Add (or with a negative amount, take away) credits by hand. Creates the guild with a zero balance if it
 * was never seen. A take-away larger than the balance empties it and records what was really taken.
 */
export async function grantCredits(db: Database, input: GrantInput): Promise<GrantResult> {
  const { guildId, amount, actorId, reason } = input;
  if (!Number.isSafeInteger(amount) || amount === 0) {
    throw new LedgerError("invalid_amount", `A grant must be a non-zero whole number, got ${amount}`);
  }
  return db.transaction(async (tx) => {
    await tx.insert(guilds).values({ id: guildId }).onConflictDoNothing();
    const current = await lockedBalance(tx, guildId);
    const applied = amount >= 0 ? amount : -Math.min(current, -amount);
    const balance = applied === 0 ? current : await addToBalance(tx, guildId, applied);
    const [entry] = await tx
      .insert(creditLedger)
      .values({
        guildId,
        kind: "grant",
        amount: applied,
        actorId,
        reason:
          applied === amount ? reason : `${reason} (asked to take ${-amount}, only ${-applied} available)`,
      })
      .returning({ id: creditLedger.id });
    return { requested: amount, applied, balance, entryId: entry!.id };
  });
}

// ---------------------------------------------------------------------------------------------------------

export interface UsageQuery {
  guildId: string;
  userId?: string;
  /** Jobs created at or after this time. */
  since?: Date;
  /** Jobs created before this time. */
  until?: Date;
}

export interface UserUsage {
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

export interface Usage extends Omit<UserUsage, "userId"> {
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

// ---------------------------------------------------------------------------------------------------------

export interface InvariantReport {
  ok: boolean;
  problems: string[];
}

/**
 * Check the ledger's promises, for one guild or all: balance = sum of ledger, balance ≥ 0, and per job at
 * most one hold, at most one capture or one release (never both), none of them without a hold, and no
 * movement booked to another guild than its job's.
 */
export async function checkInvariants(db: Database, guildId?: string): Promise<InvariantReport> {
  const problems: string[] = [];
  const guildFilter = (column: SQL) => (guildId === undefined ? sql`true` : sql`${column} = ${guildId}`);

  const balances = await queryRows<{ id: string; balance: unknown; ledger: unknown }>(
    db,
    sql`
    select g.id, g.balance, coalesce(s.total, 0) as ledger
    from ${guilds} g
    left join (select guild_id, sum(amount) as total from ${creditLedger} group by guild_id) s
      on s.guild_id = g.id
    where ${guildFilter(sql`g.id`)} and (g.balance <> coalesce(s.total, 0) or g.balance < 0)
    order by g.id`,
  );
  for (const b of balances) {
    const balance = num(b.balance);
    const ledger = num(b.ledger);
    if (balance !== ledger)
      problems.push(`guild ${b.id}: balance ${balance} but the ledger sums to ${ledger}`);
    if (balance < 0) problems.push(`guild ${b.id}: balance ${balance} is below zero`);
  }

  const perJob = await queryRows<{ job_id: unknown; holds: unknown; captures: unknown; releases: unknown }>(
    db,
    sql`
    select job_id,
      count(*) filter (where kind = 'hold') as holds,
      count(*) filter (where kind = 'capture') as captures,
      count(*) filter (where kind = 'release') as releases
    from ${creditLedger}
    where job_id is not null and ${guildFilter(sql`guild_id`)}
    group by job_id
    having count(*) filter (where kind = 'hold') <> 1
      or count(*) filter (where kind = 'capture') > 1
      or count(*) filter (where kind = 'release') > 1
      or (count(*) filter (where kind = 'capture') > 0 and count(*) filter (where kind = 'release') > 0)
    order by job_id`,
  );
  for (const j of perJob) {
    const [holds, captures, releases] = [num(j.holds), num(j.captures), num(j.releases)];
    const id = num(j.job_id);
    if (holds !== 1) problems.push(`job ${id}: ${holds} holds`);
    if (captures > 1) problems.push(`job ${id}: captured ${captures} times`);
    if (releases > 1) problems.push(`job ${id}: released ${releases} times`);
    if (captures > 0 && releases > 0) problems.push(`job ${id}: both captured and released`);
  }

  const crossed = await queryRows<{ id: unknown; job_id: unknown }>(
    db,
    sql`
    select l.id, l.job_id from ${creditLedger} l join ${jobs} j on j.id = l.job_id
    where j.guild_id <> l.guild_id and ${guildFilter(sql`l.guild_id`)}`,
  );
  for (const c of crossed)
    problems.push(`ledger row ${num(c.id)}: booked to another guild than job ${num(c.job_id)}`);

  return { ok: problems.length === 0, problems };
}
