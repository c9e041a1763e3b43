import { PgTransaction } from "drizzle-orm/pg-core";
import { z } from "zod";
import { type Database, isUniqueViolation, queryPrepared } from "../db/database.js";
import { jobNotFound, requireInteger } from "./errors.js";
import { rawInteger } from "./raw.js";

interface ReserveInput {
  guildId: string;
  userId: string;
  jobId: number;
  amount: number;
}

type ReserveResult =
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

const debitedRow = z.object({ balance: rawInteger });

/** Why a reservation took nothing. Run only when it did, so in a fresh snapshot after any competitor. */
const RESERVE_REFUSED_SQL = `
select
  exists (select 1 from jobs where id = $2::bigint and guild_id = $1::text) as job_found,
  exists (
    select 1 from credit_ledger where job_id = $2::bigint and guild_id = $1::text and kind = 'hold'
  ) as held,
  (select balance from guilds where id = $1::text) as balance`;

/** `balance` is null only when the guild has no row, and then the job is not found either. */
const refusedRow = z.object({ job_found: z.boolean(), held: z.boolean(), balance: rawInteger.nullable() });

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
    const [debited] = await queryPrepared(db, "reserve_credits", RESERVE_SQL, [
      guildId,
      amount,
      jobId,
      userId,
    ]);
    if (debited) return { ok: true, balance: debitedRow.parse(debited).balance, alreadyHeld: false };
    const [refused] = await queryPrepared(db, "reserve_credits_refused", RESERVE_REFUSED_SQL, [
      guildId,
      jobId,
    ]);
    const why = refusedRow.parse(refused);
    if (!why.job_found) throw jobNotFound(guildId, jobId);
    const balance = why.balance ?? 0;
    if (why.held) return { ok: true, balance, alreadyHeld: true };
    // Refused on a balance that has grown since (a grant or a refund in between): try again, a few times.
    if (balance >= amount && attempt < 3) continue;
    return { ok: false, balance, shortfall: Math.max(amount - balance, 1) };
  }
}

/**
 * Hold a new job's credits when the caller already holds the guild's row lock and has seen enough balance
 * (the accept path, after `lockGuildForJob`): the debit and the `hold` row in one statement, without the
 * checks `reserveCredits` needs against racing callers. The balance cannot go below zero all the same (the
 * table's CHECK).
 */
const HOLD_NEW_SQL = `
with debit as (
  update guilds set balance = balance - $2::bigint, updated_at = now() where id = $1::text returning balance
), hold as (
  insert into credit_ledger (guild_id, user_id, job_id, kind, amount)
  select $1::text, $4::text, $3::bigint, 'hold', -$2::bigint from debit
)
select balance from debit`;

export async function holdForNewJob(db: Database, input: ReserveInput): Promise<number> {
  requireInteger(input.amount, "A reservation", 1);
  const [row] = await queryPrepared(db, "hold_for_new_job", HOLD_NEW_SQL, [
    input.guildId,
    input.amount,
    input.jobId,
    input.userId,
  ]);
  if (!row) throw new Error(`Guild ${input.guildId} has no row to hold credits from`);
  return debitedRow.parse(row).balance;
}
