import { and, asc, desc, eq, gt, lt, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { type Database, queryRows } from "../db/database.js";
import { creditLedger, guilds, jobs, type LedgerEntry } from "../db/schema.js";
import { ACTIVE_STATES } from "../jobs/states.js";
import { LedgerError, requireInteger } from "./errors.js";
import { rawInteger } from "./raw.js";

/** The most rows one page may hold. */
export const MAX_LEDGER_PAGE = 100;

interface LedgerPageQuery {
  guildId: string;
  /** Only rows with a smaller id: the `next` of the page before. */
  before?: number | undefined;
  /** Only rows with a larger id, the nearest ones: the `previous` of the page after (paging back). */
  after?: number | undefined;
  limit: number;
}

export interface LedgerLine {
  id: number;
  at: Date;
  kind: LedgerEntry["kind"];
  /** The signed change to the balance. */
  credits: number;
  /** Who moved the credits by hand (`cli`, an operator's id, `allowance`, `system`); null for job movements. */
  actorId: string | null;
  /** The member whose job it was. */
  userId: string | null;
  jobId: number | null;
  reason: string | null;
  /** The video service charged more than was held. */
  flagged: boolean;
}

interface LedgerPage {
  lines: LedgerLine[];
  /** `before` for the next (older) page; undefined on the last page. */
  next: number | undefined;
  /** `after` for the previous (newer) page; undefined on the first page. */
  previous: number | undefined;
}

/**
 * A guild's ledger, newest first, one page at a time: the newest rows, the rows just older than `before`
 * (forward), or the rows just newer than `after` (back). Paged by id, so rows written meanwhile do not shift a
 * page; they wait on top.
 */
export async function ledgerPage(db: Database, query: LedgerPageQuery): Promise<LedgerPage> {
  const { guildId, before, after, limit } = query;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LEDGER_PAGE) {
    throw new LedgerError("invalid_amount", `A page holds 1 to ${MAX_LEDGER_PAGE} rows, got ${limit}`);
  }
  if (before !== undefined) requireInteger(before, "A page start", 1);
  if (after !== undefined) requireInteger(after, "A page end", 0);
  if (before !== undefined && after !== undefined) {
    throw new LedgerError("invalid_amount", "A page is asked for before a row or after one, not both");
  }
  const back = after !== undefined;
  const cursor = back
    ? gt(creditLedger.id, after)
    : before !== undefined
      ? lt(creditLedger.id, before)
      : undefined;
  const rows = await db
    .select({
      id: creditLedger.id,
      at: creditLedger.createdAt,
      kind: creditLedger.kind,
      credits: creditLedger.amount,
      actorId: creditLedger.actorId,
      userId: creditLedger.userId,
      jobId: creditLedger.jobId,
      reason: creditLedger.reason,
      flagged: creditLedger.flagged,
    })
    .from(creditLedger)
    .where(and(eq(creditLedger.guildId, guildId), cursor))
    .orderBy(back ? asc(creditLedger.id) : desc(creditLedger.id))
    .limit(limit + 1);
  // One row more than the page tells whether the pages go on in the direction asked; the other is one lookup.
  const more = rows.length > limit;
  const lines = back ? rows.slice(0, limit).reverse() : rows.slice(0, limit);
  const newest = lines[0]?.id;
  const oldest = lines.at(-1)?.id;
  let next: number | undefined;
  let previous: number | undefined;
  if (back) {
    previous = more ? newest : undefined;
    next = await beyond(db, guildId, oldest, lt);
  } else {
    next = more ? oldest : undefined;
    // The first page has nothing newer; a later one looks (a `before` past the newest row has nothing either).
    previous = before === undefined ? undefined : await beyond(db, guildId, newest, gt);
  }
  return { lines, next, previous };
}

/** `id` when the guild has a row past it (older with `lt`, newer with `gt`); else undefined. */
async function beyond(
  db: Database,
  guildId: string,
  id: number | undefined,
  past: (column: typeof creditLedger.id, value: number) => SQL,
): Promise<number | undefined> {
  if (id === undefined) return undefined;
  const [row] = await db
    .select({ id: creditLedger.id })
    .from(creditLedger)
    .where(and(eq(creditLedger.guildId, guildId), past(creditLedger.id, id)))
    .limit(1);
  return row ? id : undefined;
}

interface GuildSummary {
  id: string;
  balance: number;
  /** Credits held by the guild's jobs in flight (already taken from the balance). */
  held: number;
  allowance: number | null;
  /** `YYYY-MM` of the last month the allowance was served. */
  allowanceMonth: string | null;
  firstSeenAt: Date;
  jobsInFlight: number;
}

const activeStates = sql.join(
  ACTIVE_STATES.map((state) => sql`${state}`),
  sql`, `,
);

const guildRow = z.object({
  id: z.string(),
  balance: rawInteger,
  held: rawInteger,
  allowance: rawInteger.nullable(),
  allowance_month: z.string().nullable(),
  first_seen_at: z.union([z.date(), z.string()]).transform((v) => new Date(v)),
  jobs_in_flight: rawInteger,
});

/** Every guild the database knows (or the one asked for), oldest first. */
export async function listGuilds(db: Database, filter: { guildId?: string } = {}): Promise<GuildSummary[]> {
  const rows = await queryRows(
    db,
    sql`
    select g.id, g.balance, g.monthly_allowance as allowance, g.allowance_month, g.first_seen_at,
      coalesce(f.held, 0) as held, coalesce(f.jobs, 0) as jobs_in_flight
    from ${guilds} g
    left join lateral (
      -- A job has at most one hold (a unique index), so the join does not multiply the count.
      select count(*) as jobs, -sum(l.amount) as held
      from ${jobs} j
      left join ${creditLedger} l on l.job_id = j.id and l.guild_id = j.guild_id and l.kind = 'hold'
      where j.guild_id = g.id and j.state in (${activeStates})
    ) f on true
    where ${filter.guildId === undefined ? sql`true` : sql`g.id = ${filter.guildId}`}
    order by g.first_seen_at, g.id`,
  );
  return z
    .array(guildRow)
    .parse(rows)
    .map((r) => ({
      id: r.id,
      balance: r.balance,
      held: r.held,
      allowance: r.allowance,
      allowanceMonth: r.allowance_month,
      firstSeenAt: r.first_seen_at,
      jobsInFlight: r.jobs_in_flight,
    }));
}
