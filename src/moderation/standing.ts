import { eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { queryRows } from "../db/database.js";
import { guilds, jobs } from "../db/schema.js";
import { ACTIVE_STATES } from "../jobs/states.js";
import { frozenReason, loadSettings } from "./store.js";

/** Where a member stands in a server: what `/budget show` tells them. */
export interface Standing {
  allowance: number | null;
  spentToday: number;
  /** Left of the daily cap today; undefined: no cap. */
  capLeft: number | undefined;
  slotsFree: number;
  frozen: { reason: string | null } | undefined;
}

/** The start of the UTC day of `now`: daily caps count from here. */
export function utcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** What the rules count: a member's and the server's jobs in flight, and what the member spent today. */
export interface MemberLoad {
  mine: number;
  serverInFlight: number;
  /** Credits charged or held for the member's jobs of today (UTC) that did not fail. */
  spentToday: number;
}

/**
 * The query of `memberLoad`, to be used as a subquery (the accept path reads it with its other checks in one
 * statement). It reads only the server's jobs still in flight and those created today: a server's history
 * does not make every request slower.
 */
export function memberLoadQuery(guildId: string, userId: string, now: Date): SQL {
  const active = inArray(jobs.state, [...ACTIVE_STATES]);
  const today = sql`${jobs.createdAt} >= ${utcDay(now).toISOString()}::timestamptz`;
  return sql`select
          count(*) filter (where ${jobs.userId} = ${userId} and ${active}) as mine,
          count(*) filter (where ${active}) as in_flight,
          coalesce(sum(coalesce(${jobs.chargedCost}, ${jobs.estimatedCost}))
            filter (where ${jobs.userId} = ${userId} and ${today} and ${jobs.state} <> 'failed'), 0) as spent
        from ${jobs} where ${jobs.guildId} = ${guildId} and (${active} or ${today})`;
}

/** Read a row of `memberLoadQuery` (counts come back as strings or numbers, by driver). */
export function readMemberLoad(
  row: { mine?: unknown; in_flight?: unknown; spent?: unknown } | undefined,
): MemberLoad {
  return {
    mine: Number(row?.mine ?? 0),
    serverInFlight: Number(row?.in_flight ?? 0),
    spentToday: Number(row?.spent ?? 0),
  };
}

/** One grouped query over the server's jobs (a transaction may pass itself as `db`). */
export async function memberLoad(
  db: Database,
  guildId: string,
  userId: string,
  now: Date,
): Promise<MemberLoad> {
  const [row] = await queryRows<{ mine: unknown; in_flight: unknown; spent: unknown }>(
    db,
    memberLoadQuery(guildId, userId, now),
  );
  return readMemberLoad(row);
}

export async function memberStanding(
  db: Database,
  guildId: string,
  userId: string,
  now: Date,
): Promise<Standing> {
  const [settings, [guild], load, frozen] = await Promise.all([
    loadSettings(db, guildId),
    db.select({ allowance: guilds.monthlyAllowance }).from(guilds).where(eq(guilds.id, guildId)),
    memberLoad(db, guildId, userId, now),
    frozenReason(db, guildId, userId),
  ]);
  return {
    allowance: guild?.allowance ?? null,
    spentToday: load.spentToday,
    capLeft: settings.dailyCap > 0 ? Math.max(settings.dailyCap - load.spentToday, 0) : undefined,
    slotsFree: Math.max(settings.memberJobs - load.mine, 0),
    frozen,
  };
}
