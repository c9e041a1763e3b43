import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isConnectionError } from "../../src/db/transient.js";
import { PG_SERVER_UNAVAILABLE, type PgServer, startPgServer } from "../helpers/pg-server.js";

/**
 * postgres.js 3.4.9 on a connection that the server terminates (`pg_terminate_backend`, SQLSTATE 57P01), as
 * patched by patches/postgres+3.4.9.patch: every query gets an answer (a rejection it can catch), nothing
 * escapes as an uncaught exception or an unhandled rejection, and a transaction never goes on outside itself.
 * Unpatched, the transaction cases crash the process (`socket.write` on null in `nextWrite`) and the
 * reconnect case commits a statement of the dead transaction on its own.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(PG_SERVER_UNAVAILABLE !== undefined)(
  `postgres.js on terminated connections${PG_SERVER_UNAVAILABLE ? ` (skipped: ${PG_SERVER_UNAVAILABLE})` : ""}`,
  // Unpatched, a transaction case hangs: fail it well before the suite's default.
  { timeout: 10_000 },
  () => {
    let pg: PgServer;
    beforeAll(async () => {
      pg = await startPgServer();
      const setup = postgres(pg.url, { max: 1, onnotice: () => {} });
      await setup`create table marks (name text primary key)`;
      await setup.end();
    });
    afterAll(() => pg?.close());

    /** A pool of one connection, so that a reconnect reuses the connection a transaction had. */
    function client(app: string, settings: Record<string, string | number> = {}) {
      return postgres(pg.url, {
        max: 1,
        onnotice: () => {},
        connection: { application_name: app, ...settings },
      });
    }

    async function terminate(app: string) {
      // The backend is busy or idle; either way it goes, and its client sees the connection close.
      expect(await pg.terminateBackends({ applicationName: app })).toBe(1);
    }

    async function marks(): Promise<string[]> {
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      try {
        return (await sql<{ name: string }[]>`select name from marks order by name`).map((r) => r.name);
      } finally {
        await sql.end();
      }
    }

    it("rejects a query in flight on a terminated backend, and serves the next one", async () => {
      const sql = client("faults-query");
      try {
        await sql`select 1`;
        const inFlight = sql`select pg_sleep(5)`.then(
          () => "resolved",
          (err: unknown) => err,
        );
        await sleep(100);
        await terminate("faults-query");
        const outcome = await inFlight;
        expect(isConnectionError(outcome), String(outcome)).toBe(true);
        expect((await sql<{ n: number }[]>`select 2 as n`)[0]!.n).toBe(2);
      } finally {
        await sql.end({ timeout: 1 });
      }
    });

    it("rejects a transaction whose statement was in flight, without writing to the closed socket", async () => {
      const sql = client("faults-tx-busy");
      try {
        const tx = sql
          .begin(async (t) => {
            await t`insert into marks values ('busy-before')`;
            await t`select pg_sleep(5)`;
            await t`insert into marks values ('busy-after')`;
          })
          .then(
            () => "committed",
            (err: unknown) => err,
          );
        await sleep(150);
        await terminate("faults-tx-busy");
        const outcome = await tx;
        expect(isConnectionError(outcome), String(outcome)).toBe(true);
        // The rollback the driver used to write to the dead socket ran from setImmediate: give it the time.
        await sleep(50);
        expect((await sql<{ n: number }[]>`select 3 as n`)[0]!.n).toBe(3);
        expect(await marks()).not.toContain("busy-before");
      } finally {
        await sql.end({ timeout: 1 });
      }
    });

    it("never runs the rest of a dead transaction on the reconnected connection", async () => {
      const sql = client("faults-tx-idle");
      try {
        let resume!: () => void;
        const paused = new Promise<void>((r) => {
          resume = r;
        });
        let inserted!: () => void;
        const firstDone = new Promise<void>((r) => {
          inserted = r;
        });
        const tx = sql
          .begin(async (t) => {
            await t`insert into marks values ('idle-first')`;
            inserted();
            await paused;
            await t`insert into marks values ('idle-second')`;
          })
          .then(
            () => "committed",
            (err: unknown) => err,
          );
        await firstDone;
        await terminate("faults-tx-idle");
        // The pool's only connection reconnects for another query while the transaction still runs.
        await sleep(100);
        expect((await sql<{ n: number }[]>`select 4 as n`)[0]!.n).toBe(4);
        resume();
        const outcome = await tx;
        expect(isConnectionError(outcome), String(outcome)).toBe(true);
        expect(await marks()).not.toContain("idle-second");
        expect(await marks()).not.toContain("idle-first");
      } finally {
        await sql.end({ timeout: 1 });
      }
    });

    it("lets no error of the connection's own type lookup escape as an unhandled rejection", async () => {
      const escaped: unknown[] = [];
      const onUnhandled = (reason: unknown) => escaped.push(reason);
      process.on("unhandledRejection", onUnhandled);
      // A 1 ms statement timeout cancels the driver's array-type query at connection start (57014).
      const sql = client("faults-types", { statement_timeout: 1 });
      try {
        for (let i = 0; i < 5; i++) {
          await sql`select 1`.catch(() => undefined);
          await pg.terminateBackends({ applicationName: "faults-types" });
          await sleep(20);
        }
        await sleep(100);
        expect(escaped).toEqual([]);
      } finally {
        process.off("unhandledRejection", onUnhandled);
        await sql.end({ timeout: 1 });
      }
    });
  },
);
