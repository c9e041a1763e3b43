import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, isUniqueViolation, PGLITE_SETTINGS, queryRows } from "../../src/db/database.js";
import { PGliteThread } from "../../src/db/pglite-thread.js";

/**
 * PGlite in its worker thread, through drizzle as the bot uses it: transactions keep other statements out
 * until they end, statements sent without waiting run in order, errors keep their SQLSTATE.
 */
describe("PGlite in a worker thread", () => {
  let thread: PGliteThread;
  let db: Database;

  beforeAll(async () => {
    thread = await PGliteThread.open({ dataDir: "memory://", settings: PGLITE_SETTINGS });
    db = drizzle({ client: thread.asPGlite() });
    await db.execute(sql`create table t (id int primary key, note text, at timestamptz default now())`);
  });
  afterAll(() => thread.close());

  const count = async () =>
    Number((await queryRows<{ n: number }>(db, sql`select count(*)::int as n from t`))[0]!.n);

  it("keeps other statements out of an open transaction until it commits", async () => {
    let outside: Promise<number> | undefined;
    await db.transaction(async (tx) => {
      await tx.execute(sql`insert into t (id, note) values (1, 'in a transaction')`);
      // Sent while the transaction is open: it must wait for the commit, and then see the row.
      outside = count();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await tx.execute(sql`insert into t (id, note) values (2, 'in a transaction')`);
    });
    expect(await outside).toBe(2);
  });

  it("rolls back when the transaction's work throws, and passes the error on", async () => {
    const before = await count();
    const err = await db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into t (id, note) values (10, 'rolled back')`);
        throw new Error("changed my mind");
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe("changed my mind");
    expect(await count()).toBe(before);
  });

  it("runs a transaction's statements sent at once in the order sent", async () => {
    await db.execute(sql`create table sent (seq serial primary key, id int)`);
    const ids = [20, 21, 22, 23, 24];
    await db.transaction((tx) =>
      Promise.all(ids.map((id) => tx.execute(sql`insert into sent (id) values (${id})`))),
    );
    const rows = await queryRows<{ id: number }>(db, sql`select id from sent order by seq`);
    expect(rows.map((r) => r.id)).toEqual(ids);
  });

  it("reports a failed statement with its SQLSTATE and rolls its transaction back", async () => {
    const before = await count();
    const err = await db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into t (id, note) values (30, 'first')`);
        await tx.execute(sql`insert into t (id, note) values (30, 'duplicate')`);
      })
      .catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    expect(await count()).toBe(before);
    // The connection is usable again at once.
    await db.execute(sql`insert into t (id, note) values (30, 'after the failure')`);
    expect(await count()).toBe(before + 1);
  });

  it("leaves timestamps as text where drizzle asks for it, and reads rows of both shapes", async () => {
    const [row] = await queryRows<{ at: unknown }>(db, sql`select at from t where id = 1`);
    expect(row!.at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    const raw = await thread.query<{ at: unknown }>("select at from t where id = $1", [1], {
      rowMode: "object",
      parsers: { 1184: (value: string) => `parsed ${value}` },
    });
    expect(String(raw.rows[0]!.at)).toMatch(/^parsed \d{4}-/);
    const arrays = await thread.query<unknown[]>("select id, note from t where id = $1", [1], {
      rowMode: "array",
    });
    expect(arrays.rows).toEqual([[1, "in a transaction"]]);
  });

  it("refuses statements once closed", async () => {
    const other = await PGliteThread.open({ dataDir: "memory://", settings: PGLITE_SETTINGS });
    await other.close();
    expect(other.closed).toBe(true);
    await expect(other.query("select 1")).rejects.toThrow("PGlite is closed");
  });
});
