import { type SQL, sql } from "drizzle-orm";
import { checkInvariants } from "../ledger/index.js";
import { type Database, queryRows } from "./database.js";

/**
 * Copy everything the bot keeps from one database to another of the same schema, e.g. from the embedded
 * PGlite folder to a new Postgres server. Rows travel as JSON (`json_agg` out, `json_populate_recordset` in),
 * which both drivers speak, with their ids kept; the identity sequences are moved past them afterwards.
 */

/** In dependency order: jobs reference guilds, ledger rows reference both. */
const TABLES = ["guilds", "jobs", "credit_ledger"] as const;
const BATCH = 500;

interface BatchRow {
  data: unknown;
  last: string | null;
  n: number | string;
}

export interface CopyReport {
  rows: Record<(typeof TABLES)[number] | "member_freezes", number>;
}

export class CopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CopyError";
  }
}

export async function copyDatabase(
  from: Database,
  to: Database,
  options: { batchSize?: number } = {},
): Promise<CopyReport> {
  const batchSize = options.batchSize ?? BATCH;
  const [existing] = await queryRows<{ n: number | string }>(to, "select count(*) as n from guilds");
  if (Number(existing?.n ?? 0) > 0) {
    throw new CopyError("The target database already has data; copy only into a new, empty database.");
  }
  const rows = { guilds: 0, jobs: 0, credit_ledger: 0, member_freezes: 0 };
  await to.transaction(async (tx) => {
    for (const table of TABLES) {
      let after: string | null = null;
      for (;;) {
        const where: SQL = after === null ? sql`` : sql`where ${sql.identifier("id")} > ${after}`;
        const [batch]: (BatchRow | undefined)[] = await queryRows<BatchRow>(
          from,
          sql`select json_agg(t order by ${sql.identifier("id")}) as data, max(${sql.identifier("id")})::text as last, count(*) as n
              from (select * from ${sql.identifier(table)} ${where} order by ${sql.identifier("id")} limit ${batchSize}) t`,
        );
        const n = Number(batch?.n ?? 0);
        if (!batch || n === 0) break;
        const json = typeof batch.data === "string" ? batch.data : JSON.stringify(batch.data);
        const override = table === "guilds" ? sql`` : sql`overriding system value`;
        await tx.execute(
          sql`insert into ${sql.identifier(table)} ${override}
              select * from json_populate_recordset(null::${sql.identifier(table)}, ${json}::json)`,
        );
        rows[table] += n;
        after = batch.last;
        if (n < batchSize) break;
      }
    }
    // A small table without an id: copied whole.
    const [freezes] = await queryRows<BatchRow>(
      from,
      sql`select json_agg(t) as data, null as last, count(*) as n from member_freezes t`,
    );
    if (freezes && Number(freezes.n) > 0) {
      const json = typeof freezes.data === "string" ? freezes.data : JSON.stringify(freezes.data);
      await tx.execute(
        sql`insert into member_freezes select * from json_populate_recordset(null::member_freezes, ${json}::json)`,
      );
      rows.member_freezes = Number(freezes.n);
    }
    for (const table of ["jobs", "credit_ledger"] as const) {
      await tx.execute(
        sql.raw(
          `select setval(pg_get_serial_sequence('${table}', 'id'), coalesce((select max(id) from ${table}), 0) + 1, false)`,
        ),
      );
    }
  });
  const check = await checkInvariants(to);
  if (!check.ok) throw new CopyError(`The copy does not add up: ${check.problems.join("; ")}`);
  return { rows };
}
