import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatabaseLockedError, migrationsFolder, openDatabase, queryRows } from "../../src/db/database.js";
import { jobs } from "../../src/db/schema.js";
import { checkInvariants, ensureGuild, getBalance } from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import { FixtureProcess } from "../helpers/child.js";
import {
  createPgliteDir,
  createPostgresDatabase,
  insertTestJob,
  openTestDatabase,
  TEST_DATABASE_URL,
  type TestDatabase,
  testDrivers,
} from "../helpers/db.js";

const HOLD_OPEN = resolve(import.meta.dirname, "fixtures/hold-open.ts");
const GUILD = "111111111111111111";

/** A pid that surely ran and is surely gone: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((done) => child.once("exit", done));
  return child.pid!;
}

const MIGRATIONS = (
  JSON.parse(readFileSync(join(migrationsFolder(), "meta", "_journal.json"), "utf8")) as {
    entries: unknown[];
  }
).entries.length;

describe("the migrations folder", () => {
  it("is found from the source tree", () => {
    expect(migrationsFolder()).toBe(resolve(import.meta.dirname, "../../drizzle"));
    expect(existsSync(join(migrationsFolder(), "meta", "_journal.json"))).toBe(true);
  });
});

describe("embedded PGlite in a folder", () => {
  let dir: Awaited<ReturnType<typeof createPgliteDir>>;
  beforeAll(async () => {
    dir = await createPgliteDir();
  });
  afterAll(async () => {
    await dir?.remove();
  });

  it("lets one process in, refuses a second with a clear message, and keeps the data", async () => {
    const holder = new FixtureProcess(HOLD_OPEN, {
      dataDir: dir.dir,
      grant: { guildId: GUILD, amount: 123 },
    });
    try {
      await holder.waitForLine("ready");
      const err = await openDatabase({ dataDir: dir.dir, logger: silentLogger() }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DatabaseLockedError);
      expect((err as DatabaseLockedError).message).toBe(
        `Another process (pid ${holder.pid}) is using the embedded database in ${dir.dir}. ` +
          "PGlite is single-process: stop it, or set DATABASE_URL to use a Postgres server.",
      );
      // The refusal did not disturb the holder's lock.
      expect((await readFile(join(dir.dir, "pglite.lock"), "utf8")).split("\n")[0]).toBe(String(holder.pid));
      holder.send("close");
      await holder.waitForLine("closed");
      expect((await holder.exited).code).toBe(0);
    } finally {
      await holder.stop();
    }
    expect(existsSync(join(dir.dir, "pglite.lock"))).toBe(false);

    const handle = await openDatabase({ dataDir: dir.dir, logger: silentLogger() });
    try {
      expect(handle.driver).toBe("pglite");
      expect(await getBalance(handle.db, GUILD)).toBe(123);
      expect(await checkInvariants(handle.db)).toEqual({ ok: true, problems: [] });
      // The same process cannot open it twice either.
      await expect(openDatabase({ dataDir: dir.dir, logger: silentLogger() })).rejects.toThrow(
        `Another process (pid ${process.pid})`,
      );
    } finally {
      await handle.close();
    }
  });

  it("takes over a lock left by a process that no longer runs", async () => {
    const gone = await deadPid();
    await writeFile(join(dir.dir, "pglite.lock"), `${gone}\n`);
    const handle = await openDatabase({ dataDir: dir.dir, logger: silentLogger() });
    try {
      expect((await readFile(join(dir.dir, "pglite.lock"), "utf8")).split("\n")[0]).toBe(String(process.pid));
      expect(await getBalance(handle.db, GUILD)).toBe(123);
    } finally {
      await handle.close();
    }
    expect(existsSync(join(dir.dir, "pglite.lock"))).toBe(false);
  });

  it("takes over a lock whose pid now belongs to another process, as after a container restart", async () => {
    // Our own pid, written by an earlier life of it (in a container the bot is pid 1 every time).
    await writeFile(join(dir.dir, "pglite.lock"), `${process.pid}\n1\n`);
    const first = await openDatabase({ dataDir: dir.dir, logger: silentLogger() });
    await first.close();
    // A live process, but not the one that wrote the lock: its start time differs.
    await writeFile(join(dir.dir, "pglite.lock"), `${process.ppid}\n1\n`);
    const second = await openDatabase({ dataDir: dir.dir, logger: silentLogger() });
    try {
      expect(await getBalance(second.db, GUILD)).toBe(123);
    } finally {
      await second.close();
    }
  });
});

describe.each(testDrivers())("driver features on %s", (driver) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(driver);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("runs raw SQL, transactions and row locks with SKIP LOCKED", async () => {
    const [row] = await queryRows<{ n: unknown }>(t.db, sql`select 41 + 1 as n`);
    expect(Number(row!.n)).toBe(42);
    const g = `2${String(Date.now()).slice(-17)}`;
    await ensureGuild(t.db, g, 0);
    const a = await insertTestJob(t.db, { guildId: g });
    const b = await insertTestJob(t.db, { guildId: g });
    const lockedIds = await t.db.transaction(async (tx) => {
      const first = await tx
        .select({ id: jobs.id })
        .from(jobs)
        .where(eq(jobs.guildId, g))
        .orderBy(jobs.id)
        .limit(1)
        .for("update", { skipLocked: true });
      if (driver === "postgres") {
        // Another session skips the row this transaction holds.
        const other = postgres(t.url!, { max: 1, onnotice: () => {} });
        try {
          const rows =
            await other`select id from jobs where guild_id = ${g} order by id for update skip locked`;
          expect(rows.map((r) => Number(r.id))).toEqual([b.id]);
        } finally {
          await other.end();
        }
      }
      return first.map((r) => r.id);
    });
    expect(lockedIds).toEqual([a.id]);
  });
});

describe.runIf(TEST_DATABASE_URL)("Postgres migrations", () => {
  it("five processes migrating one fresh database at once all succeed, and the schema exists once", async () => {
    const fresh = await createPostgresDatabase();
    const children = Array.from(
      { length: 5 },
      () => new FixtureProcess(HOLD_OPEN, { databaseUrl: fresh.url, dataDir: "unused", waitForGo: true }),
    );
    try {
      // Everything loaded first, then all start migrating in the same moment.
      await Promise.all(children.map((c) => c.waitForLine("loaded")));
      for (const c of children) c.send("go");
      await Promise.all(
        children.map((c) =>
          c.waitFor((l) => l.includes("ready") || l.some((x) => x.startsWith("error")), "ready"),
        ),
      );
      expect(children.map((c) => c.lines.filter((l) => l.startsWith("error")))).toEqual([[], [], [], [], []]);
      for (const c of children) c.send("close");
      const exits = await Promise.all(children.map((c) => c.exited));
      expect(exits.map((e) => e.code)).toEqual([0, 0, 0, 0, 0]);

      const journal = JSON.parse(
        await readFile(join(migrationsFolder(), "meta", "_journal.json"), "utf8"),
      ) as {
        entries: unknown[];
      };
      const check = postgres(fresh.url, { max: 1, onnotice: () => {} });
      try {
        const [applied] = await check`select count(*)::int as n from drizzle.__drizzle_migrations`;
        expect(applied!.n).toBe(journal.entries.length);
        const tables =
          await check`select tablename from pg_tables where schemaname = 'public' order by tablename`;
        expect(tables.map((r) => r.tablename)).toEqual(["credit_ledger", "guilds", "jobs", "member_freezes"]);
        const types =
          await check`select typname from pg_type where typname in ('job_state', 'ledger_kind') order by 1`;
        expect(types.map((r) => r.typname)).toEqual(["job_state", "ledger_kind"]);
      } finally {
        await check.end();
      }
    } finally {
      await Promise.all(children.map((c) => c.stop()));
      await fresh.drop();
    }
  });

  it("opens an already migrated database without applying anything again", async () => {
    const fresh = await createPostgresDatabase();
    try {
      for (let i = 0; i < 2; i++) {
        const handle = await openDatabase({
          databaseUrl: fresh.url,
          dataDir: "unused",
          logger: silentLogger(),
        });
        expect(handle.driver).toBe("postgres");
        await handle.close();
      }
      const check = postgres(fresh.url, { max: 1, onnotice: () => {} });
      try {
        const [applied] = await check`select count(*)::int as n from drizzle.__drizzle_migrations`;
        // One row per migration in drizzle/, however often the database was opened.
        expect(applied!.n).toBe(MIGRATIONS);
      } finally {
        await check.end();
      }
    } finally {
      await fresh.drop();
    }
  });
});
