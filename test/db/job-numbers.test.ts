import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { asc } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import { type Database, type DatabaseHandle, migrationsFolder, openDatabase } from "../../src/db/database.js";
import { guilds, jobs } from "../../src/db/schema.js";
import { silentLogger } from "../../src/log.js";
import { createPgliteDir, createPostgresDatabase, testDrivers } from "../helpers/db.js";

/**
 * Migration 0003 numbers the jobs already stored per server, in the order they were made, and sets each
 * server's counter to its highest number: a database made before it is opened by the bot as it is in production.
 */

const BEFORE = "0003_job_numbers_and_video_message";

/** The migrations folder as it was before 0003: its SQL files and a journal without the later entries. */
async function foldersBefore(tag: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "kdb-migrations-"));
  await cp(migrationsFolder(), dir, { recursive: true });
  const journalPath = join(dir, "meta", "_journal.json");
  const journal = JSON.parse(await readFile(journalPath, "utf8")) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  expect(at).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, at);
  await writeFile(journalPath, JSON.stringify(journal));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Jobs as a version before 0003 stored them, one server's interleaved with another's. */
async function storeOldJobs(db: Database): Promise<void> {
  await db.execute(`insert into guilds (id, balance) values ('a', 0), ('b', 0), ('empty', 0)`);
  for (const [i, guild] of ["a", "b", "a", "a", "b"].entries()) {
    await db.execute(
      `insert into jobs (interaction_id, guild_id, channel_id, user_id, request, task_type, estimated_cost,
         application_id, token_expires_at)
       values ('old-${i}', '${guild}', '1', '2', '{}', 'std-text-to-video', 300, '3', now())`,
    );
  }
}

describe.each(testDrivers())("migration 0003 on %s", (driver) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  });

  /** A database migrated up to just before 0003, with old jobs in it; then opened by the bot. */
  async function upgraded(): Promise<DatabaseHandle> {
    const before = await foldersBefore(BEFORE);
    cleanups.push(before.remove);
    if (driver === "pglite") {
      const dir = await createPgliteDir();
      cleanups.push(dir.remove);
      const old = await openDatabase({ dataDir: dir.dir, logger: silentLogger(), migrate: false });
      const client = (old.db as Database & { $client: PGlite }).$client;
      await migratePglite(drizzlePglite({ client }), { migrationsFolder: before.dir });
      await storeOldJobs(old.db);
      await old.close();
      const handle = await openDatabase({ dataDir: dir.dir, logger: silentLogger() });
      cleanups.push(() => handle.close());
      return handle;
    }
    const fresh = await createPostgresDatabase();
    cleanups.push(fresh.drop);
    const client = postgres(fresh.url, { max: 1, onnotice: () => {} });
    try {
      const db = drizzlePostgres({ client });
      await migratePostgres(db, { migrationsFolder: before.dir });
      await storeOldJobs(db as unknown as Database);
    } finally {
      await client.end({ timeout: 5 });
    }
    const handle = await openDatabase({
      databaseUrl: fresh.url,
      dataDir: "memory://",
      logger: silentLogger(),
    });
    cleanups.push(() => handle.close());
    return handle;
  }

  it("numbers the stored jobs per server in their order, and sets each server's counter", async () => {
    const { db } = await upgraded();
    const rows = await db
      .select({ interactionId: jobs.interactionId, guildId: jobs.guildId, number: jobs.number })
      .from(jobs)
      .orderBy(asc(jobs.id));
    expect(rows.map((r) => `${r.interactionId} ${r.guildId}#${r.number}`)).toEqual([
      "old-0 a#1",
      "old-1 b#1",
      "old-2 a#2",
      "old-3 a#3",
      "old-4 b#2",
    ]);
    const counters = await db
      .select({ id: guilds.id, last: guilds.lastJobNumber })
      .from(guilds)
      .orderBy(asc(guilds.id));
    expect(counters).toEqual([
      { id: "a", last: 3 },
      { id: "b", last: 2 },
      { id: "empty", last: 0 },
    ]);
    // One number once per server.
    await expect(
      db.execute(
        `insert into jobs (number, interaction_id, guild_id, channel_id, user_id, request, task_type,
           estimated_cost, application_id, token_expires_at)
         values (2, 'again', 'b', '1', '2', '{}', 'std-text-to-video', 300, '3', now())`,
      ),
    ).rejects.toThrow();
  });
});
