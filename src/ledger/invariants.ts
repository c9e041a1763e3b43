import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { type Database, queryRows } from "../db/database.js";
import { creditLedger, guilds, jobs } from "../db/schema.js";
import { rawInteger } from "./raw.js";

interface InvariantReport {
  ok: boolean;
  problems: string[];
}

const balanceRow = z.object({ id: z.string(), balance: rawInteger, ledger: rawInteger });
const jobCountsRow = z.object({
  job_id: rawInteger,
  holds: rawInteger,
  captures: rawInteger,
  releases: rawInteger,
});
const crossedRow = z.object({ id: rawInteger, job_id: rawInteger });

/**
 * Check the ledger's promises, for one guild or all: balance = sum of ledger, balance ≥ 0, and per job at
 * most one hold, at most one capture or one release (never both), none of them without a hold, and no
 * movement booked to another guild than its job's.
 */
export async function checkInvariants(db: Database, guildId?: string): Promise<InvariantReport> {
  const problems: string[] = [];
  const guildFilter = (column: SQL) => (guildId === undefined ? sql`true` : sql`${column} = ${guildId}`);

  const balances = await queryRows(
    db,
    sql`
    select g.id, g.balance, coalesce(s.total, 0) as ledger
    from ${guilds} g
    left join (select guild_id, sum(amount) as total from ${creditLedger} group by guild_id) s
      on s.guild_id = g.id
    where ${guildFilter(sql`g.id`)} and (g.balance <> coalesce(s.total, 0) or g.balance < 0)
    order by g.id`,
  );
  for (const { id, balance, ledger } of z.array(balanceRow).parse(balances)) {
    if (balance !== ledger) problems.push(`guild ${id}: balance ${balance} but the ledger sums to ${ledger}`);
    if (balance < 0) problems.push(`guild ${id}: balance ${balance} is below zero`);
  }

  const perJob = await queryRows(
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
  for (const { job_id: id, holds, captures, releases } of z.array(jobCountsRow).parse(perJob)) {
    if (holds !== 1) problems.push(`job ${id}: ${holds} holds`);
    if (captures > 1) problems.push(`job ${id}: captured ${captures} times`);
    if (releases > 1) problems.push(`job ${id}: released ${releases} times`);
    if (captures > 0 && releases > 0) problems.push(`job ${id}: both captured and released`);
  }

  const crossed = await queryRows(
    db,
    sql`
    select l.id, l.job_id from ${creditLedger} l join ${jobs} j on j.id = l.job_id
    where j.guild_id <> l.guild_id and ${guildFilter(sql`l.guild_id`)}`,
  );
  for (const c of z.array(crossedRow).parse(crossed))
    problems.push(`ledger row ${c.id}: booked to another guild than job ${c.job_id}`);

  return { ok: problems.length === 0, problems };
}
