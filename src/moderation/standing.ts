import { and, eq, inArray, sql } from "drizzle-orm";
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

export async function memberStanding(
  db: Database,
  guildId: string,
  userId: string,
  now: Date,
): Promise<Standing> {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const [settings, [guild], [counts], frozen] = await Promise.all([
    loadSettings(db, guildId),
    db.select({ allowance: guilds.monthlyAllowance }).from(guilds).where(eq(guilds.id, guildId)),
    queryRows<{ mine: unknown; spent: unknown }>(
      db,
      sql`select
            count(*) filter (where ${inArray(jobs.state, [...ACTIVE_STATES])}) as mine,
            coalesce(sum(coalesce(${jobs.chargedCost}, ${jobs.estimatedCost}))
              filter (where ${jobs.createdAt} >= ${day.toISOString()}::timestamptz and ${jobs.state} <> 'failed'), 0) as spent
          from ${jobs} where ${and(eq(jobs.guildId, guildId), eq(jobs.userId, userId))}`,
    ),
    frozenReason(db, guildId, userId),
  ]);
  const spentToday = Number(counts?.spent ?? 0);
  return {
    allowance: guild?.allowance ?? null,
    spentToday,
    capLeft: settings.dailyCap > 0 ? Math.max(settings.dailyCap - spentToday, 0) : undefined,
    slotsFree: Math.max(settings.memberJobs - Number(counts?.mine ?? 0), 0),
    frozen,
  };
}
