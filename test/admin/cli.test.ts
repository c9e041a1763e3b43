import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../src/db/database.js";
import { allowanceMonth, checkInvariants, ledgerPage, listGuilds } from "../../src/ledger/index.js";
import { silentLogger } from "../../src/log.js";
import { FixtureProcess } from "../helpers/child.js";
import {
  createPgliteDir,
  type FreshDir,
  nodeTsArgs,
  openTestDatabase,
  type TestDatabase,
  testDrivers,
} from "../helpers/db.js";

/**
 * The operators' command-line tool, run as operators run it: a child process on the bot's database (a PGlite
 * folder, or a Postgres database that this test keeps open meanwhile, as a running bot would).
 */

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = resolve(ROOT, "src/admin/main.ts");
const HOLD_OPEN = resolve(ROOT, "test/db/fixtures/hold-open.ts");
const GUILD = "910000000000000001";
/** Each test runs the tool several times, a second or more each on a busy machine. */
const CLI_TIMEOUT = 120_000;
const OTHER = "910000000000000002";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
): Promise<Run> {
  return new Promise((done, fail) => {
    // LOG_LEVEL from the developer's shell would add lines to stderr; the tests read it.
    const child = spawn(command, args, { cwd, env: { ...process.env, LOG_LEVEL: "warn", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", fail);
    child.once("close", (code) => done({ code, stdout, stderr }));
  });
}

describe.each(testDrivers())("npm run admin on %s", (driver) => {
  let t: TestDatabase | undefined;
  let dir: FreshDir | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    if (driver === "postgres") {
      t = await openTestDatabase("postgres");
      env = { DATABASE_URL: t.url!, DATA_DIR: resolve(tmpdir(), "kdb-admin-unused") };
    } else {
      dir = await createPgliteDir();
      env = { DATABASE_URL: "", DATA_DIR: dir.dir };
      // Create and migrate the folder's database here (initdb takes seconds), as the bot's first start would.
      await (await openDatabase({ dataDir: dir.dir, logger: silentLogger() })).close();
    }
  });
  afterAll(async () => {
    await t?.close();
    await dir?.remove();
  });

  /** The CLI from its sources (Node strips the types), in a folder without a .env. */
  const admin = (...args: string[]) => run(process.execPath, nodeTsArgs(MAIN, args), env, tmpdir());

  /** Look at the database between two commands: PGlite admits one process, so only while none runs. */
  async function inspect<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    if (t) return fn(t.db);
    const handle = await openDatabase({ dataDir: dir!.dir, logger: silentLogger() });
    try {
      return await fn(handle.db);
    } finally {
      await handle.close();
    }
  }

  const expectDone = (r: Run) => {
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  };

  it(
    "grants, and balance and ledger then show the same row the database holds",
    async () => {
      const grant = await admin("grant", GUILD, "500", "--reason", "first credits for the contest");
      expectDone(grant);
      expect(grant.stdout).toMatch(
        /^Granted 500 credits to server 910000000000000001: balance 500 \(ledger row \d+\)\.\n$/,
      );
      const rowId = Number(/ledger row (\d+)/.exec(grant.stdout)![1]);

      const balance = await admin("balance", GUILD);
      expectDone(balance);
      expect(balance.stdout).toMatch(
        /^server +910000000000000001\nbalance +500\nheld +0 \(by 0 jobs in flight\)\n/m,
      );

      const ledger = await admin("ledger", GUILD);
      expectDone(ledger);
      const [header, line] = ledger.stdout.trimEnd().split("\n");
      expect(header).toMatch(/^row +time \(UTC\) +kind +credits +actor +member +job +reason$/);
      expect(line).toMatch(
        new RegExp(
          `^ *${rowId} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +grant +\\+500 +cli +- +- +first credits for the contest$`,
        ),
      );

      const asJson = JSON.parse((await admin("ledger", GUILD, "--json")).stdout) as {
        lines: Record<string, unknown>[];
      };
      const stored = await inspect((db) => ledgerPage(db, { guildId: GUILD, limit: 10 }));
      expect(stored.lines).toHaveLength(1);
      expect(asJson.lines).toEqual([{ ...stored.lines[0], at: stored.lines[0]!.at.toISOString() }]);
      expect(stored.lines[0]).toMatchObject({
        id: rowId,
        kind: "grant",
        credits: 500,
        actorId: "cli",
        reason: "first credits for the contest",
      });

      // Taking more than there is empties the balance and says so.
      const take = await admin("grant", GUILD, "-800", "--reason=moved to 910000000000000002");
      expectDone(take);
      expect(take.stdout).toMatch(
        /^Took 500 credits from server 910000000000000001, not the 800 asked: a balance cannot go below 0\. Balance 0/,
      );
      const back = await admin("grant", OTHER, "+500", "--reason", "moved from 910000000000000001");
      expectDone(back);
      expect(await inspect((db) => checkInvariants(db))).toEqual({ ok: true, problems: [] });
    },
    CLI_TIMEOUT,
  );

  it(
    "sets and removes a monthly allowance",
    async () => {
      const set = await admin("allowance", GUILD, "3000");
      expectDone(set);
      expect(set.stdout).toContain(`Set the monthly allowance of server ${GUILD} to 3000 (was none).`);
      expect(set.stdout).toMatch(/the next top-up is on \d{4}-\d\d-01 00:00:00 UTC/);
      const again = await admin("allowance", GUILD, "3000");
      expect(again.stdout).toContain("is already 3000: nothing changed");

      const balance = JSON.parse((await admin("balance", GUILD, "--json")).stdout) as Record<string, unknown>;
      expect(balance).toMatchObject({
        id: GUILD,
        allowance: 3000,
        allowanceMonth: allowanceMonth(new Date()),
      });

      const off = await admin("allowance", GUILD, "OFF");
      expectDone(off);
      expect(off.stdout).toContain(`Removed the monthly allowance of server ${GUILD} (was 3000)`);
      const [g] = await inspect((db) => listGuilds(db, { guildId: GUILD }));
      expect(g?.allowance).toBeNull();
      const { lines } = await inspect((db) => ledgerPage(db, { guildId: GUILD, limit: 2 }));
      expect(lines.map((l) => [l.credits, l.actorId, l.reason])).toEqual([
        [0, "cli", "monthly allowance removed (was 3000)"],
        [0, "cli", "monthly allowance set to 3000 (was none)"],
      ]);
    },
    CLI_TIMEOUT,
  );

  it(
    "lists the servers",
    async () => {
      const guilds = await admin("guilds");
      expectDone(guilds);
      expect(guilds.stdout).toMatch(
        /^server +balance +held +jobs in flight +allowance +month served +first seen \(UTC\)\n/,
      );
      expect(guilds.stdout).toContain(GUILD);
      const listed = JSON.parse((await admin("guilds", "--json")).stdout) as {
        id: string;
        balance: number;
      }[];
      expect(listed.map((g) => [g.id, g.balance])).toEqual([
        [GUILD, 0],
        [OTHER, 500],
      ]);
    },
    CLI_TIMEOUT,
  );

  it(
    "refuses bad arguments with exit status 2, says what to change, and writes nothing",
    async () => {
      const before = await inspect((db) => ledgerPage(db, { guildId: GUILD, limit: 100 }));
      const cases: [string[], RegExp][] = [
        [[], /^Bad arguments: say what to do: one of grant, allowance, balance, ledger, guilds\n\nUsage: /],
        [
          ["grant", "x", "y"],
          /^Bad arguments: grant:\n {2}- <guild> .*\n {2}- <credits> .*\n {2}- --reason is required: .*\n\nUsage: /,
        ],
        [["allowance", GUILD, "0"], /<credits> must be at least 1 \(use off to remove the allowance\)/],
      ];
      for (const [args, message] of cases) {
        const r = await admin(...args);
        expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: "" });
        expect(r.stderr).toMatch(message);
      }
      expect(await inspect((db) => ledgerPage(db, { guildId: GUILD, limit: 100 }))).toEqual(before);
    },
    CLI_TIMEOUT,
  );

  it(
    "answers an unknown server with exit status 1",
    async () => {
      for (const verb of ["balance", "ledger"]) {
        const r = await admin(verb, "919999999999999999");
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toContain("No server 919999999999999999 in this database.");
      }
    },
    CLI_TIMEOUT,
  );

  it.runIf(driver === "pglite")(
    "refuses a PGlite folder another process uses, with a message that says what to do",
    async () => {
      const holder = new FixtureProcess(HOLD_OPEN, { dataDir: dir!.dir });
      try {
        await holder.waitForLine("ready");
        const r = await admin("grant", GUILD, "5", "--reason", "while the bot runs");
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(
          `The embedded database in ${dir!.dir} is in use by another process (pid ${holder.pid}), most likely ` +
            "the bot.\nPGlite admits one process at a time: stop the bot, run this command again, then start " +
            "the bot.\n(On a Postgres server, with DATABASE_URL, admin commands work while the bot runs.)\n",
        );
        holder.send("close");
        expect((await holder.exited).code).toBe(0);
      } finally {
        await holder.stop();
      }
      expectDone(await admin("balance", GUILD));
      // Nothing was granted while the folder was refused.
      const { lines } = await inspect((db) => ledgerPage(db, { guildId: GUILD, limit: 1 }));
      expect(lines[0]?.reason).not.toBe("while the bot runs");
    },
    CLI_TIMEOUT,
  );

  it.runIf(driver === "pglite")(
    "says so when DATA_DIR holds no database, instead of creating one",
    async () => {
      const missing = resolve(dir!.dir, "not-here");
      const r = await run(
        process.execPath,
        nodeTsArgs(MAIN, ["guilds"]),
        { ...env, DATA_DIR: missing },
        tmpdir(),
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`No embedded database in ${missing} (DATA_DIR).`);
    },
    CLI_TIMEOUT,
  );

  it.runIf(driver === "pglite")(
    "runs from `npm run admin` (compiled when the sources changed)",
    async () => {
      const r = await run("npm", ["run", "--silent", "admin", "--", "guilds", "--json"], env, ROOT);
      expect(r.code).toBe(0);
      const listed = JSON.parse(r.stdout) as { id: string }[];
      expect(listed.map((g) => g.id)).toContain(GUILD);
    },
    // A build of the whole tree when the sources changed since the last one.
    180_000,
  );
});
