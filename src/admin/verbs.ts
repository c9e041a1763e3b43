import type { Database } from "../db/database.js";
import {
  allowanceMonth,
  grantCredits,
  ledgerPage,
  listGuilds,
  nextTopUp,
  setAllowance,
} from "../ledger/index.js";
import type { AdminCommand } from "./args.js";
import { fields, signed, table, utc } from "./format.js";

/** The actor of every ledger row the command-line tool writes. */
const CLI_ACTOR = "cli";

/** A server id the database does not know (exit status 1: the command was well formed). */
export class UnknownGuildError extends Error {
  readonly code = "unknown_guild" as const;
  constructor(guildId: string) {
    super(
      `No server ${guildId} in this database. Check the id (npm run admin -- guilds lists the servers it knows) ` +
        "and that DATABASE_URL or DATA_DIR point to the bot's database.",
    );
    this.name = "UnknownGuildError";
  }
}

interface AdminResult {
  /** For people. */
  text: string;
  /** The same, for `--json`. */
  data: unknown;
}

/** Run one checked command against the bot's database, through the same domain functions the bot uses. */
export async function runAdminCommand(db: Database, command: AdminCommand, now: Date): Promise<AdminResult> {
  switch (command.verb) {
    case "grant": {
      const { guildId, credits, reason } = command;
      const r = await grantCredits(db, { guildId, amount: credits, actorId: CLI_ACTOR, reason });
      const row = `(ledger row ${r.entryId})`;
      let text: string;
      if (r.applied > 0)
        text = `Granted ${r.applied} credits to server ${guildId}: balance ${r.balance} ${row}.`;
      else if (r.applied === r.requested)
        text = `Took ${-r.applied} credits from server ${guildId}: balance ${r.balance} ${row}.`;
      else {
        text =
          `Took ${-r.applied} credits from server ${guildId}, not the ${-r.requested} asked: a balance cannot go ` +
          `below 0. Balance ${r.balance} ${row}.`;
      }
      return { text, data: { guildId, ...r } };
    }
    case "allowance": {
      const { guildId, credits } = command;
      const r = await setAllowance(db, { guildId, credits, actorId: CLI_ACTOR, now });
      const next = nextTopUp(now);
      const was = r.previous === null ? "none" : String(r.previous);
      let text: string;
      if (!r.changed) {
        text =
          credits === null
            ? `Server ${guildId} has no monthly allowance: nothing changed.`
            : `The monthly allowance of server ${guildId} is already ${credits}: nothing changed.`;
      } else if (credits === null) {
        text = `Removed the monthly allowance of server ${guildId} (was ${was}): no more top-ups. Balance ${r.balance}.`;
      } else {
        text =
          `Set the monthly allowance of server ${guildId} to ${credits} (was ${was}). Balance ${r.balance}.\n` +
          `On the 1st of each month (UTC), once, a balance below ${credits} is topped up to ${credits}; ` +
          `the next top-up is on ${utc(next)}. Nothing is added now: grant credits for this month.`;
      }
      return { text, data: { guildId, ...r, nextTopUp: credits === null ? null : next } };
    }
    case "balance": {
      const [g] = await listGuilds(db, { guildId: command.guildId });
      if (!g) throw new UnknownGuildError(command.guildId);
      // This month's top-up is still due when the month is not served (set before a top-up ran).
      const due = g.allowanceMonth === null || g.allowanceMonth < allowanceMonth(now);
      const next = due ? now : nextTopUp(now);
      const text = fields([
        ["server", g.id],
        ["balance", String(g.balance)],
        ["held", `${g.held} (by ${g.jobsInFlight} job${g.jobsInFlight === 1 ? "" : "s"} in flight)`],
        [
          "allowance",
          g.allowance === null
            ? "none"
            : `${g.allowance} a month (next top-up ${due ? "due now" : utc(next)}; month served ${g.allowanceMonth ?? "none"})`,
        ],
        ["first seen", utc(g.firstSeenAt)],
      ]);
      return { text, data: { ...g, nextTopUp: g.allowance === null ? null : next } };
    }
    case "ledger": {
      const { guildId, limit, before } = command;
      const page = await ledgerPage(db, { guildId, limit, before });
      if (page.lines.length === 0 && before === undefined) {
        const [g] = await listGuilds(db, { guildId });
        if (!g) throw new UnknownGuildError(guildId);
      }
      const rows = page.lines.map((l) => [
        String(l.id),
        utc(l.at).slice(0, -4),
        l.kind,
        signed(l.credits),
        l.actorId ?? "-",
        l.userId ?? "-",
        l.jobId === null ? "-" : String(l.jobId),
        `${l.flagged ? "[flagged] " : ""}${l.reason ?? ""}`,
      ]);
      const lines = [
        rows.length === 0
          ? `No ledger rows for server ${guildId}${before === undefined ? "" : ` before row ${before}`}.`
          : table(
              ["row", "time (UTC)", "kind", "credits", "actor", "member", "job", "reason"],
              rows,
              [0, 3, 6],
            ),
      ];
      if (page.next !== undefined) {
        lines.push(`Older rows: npm run admin -- ledger ${guildId} --limit ${limit} --before ${page.next}`);
      }
      return { text: lines.join("\n"), data: { guildId, ...page } };
    }
    case "guilds": {
      const all = await listGuilds(db);
      const text =
        all.length === 0
          ? "No servers in this database yet."
          : table(
              [
                "server",
                "balance",
                "held",
                "jobs in flight",
                "allowance",
                "month served",
                "first seen (UTC)",
              ],
              all.map((g) => [
                g.id,
                String(g.balance),
                String(g.held),
                String(g.jobsInFlight),
                g.allowance === null ? "-" : String(g.allowance),
                g.allowanceMonth ?? "-",
                utc(g.firstSeenAt).slice(0, -4),
              ]),
              [1, 2, 3, 4],
            );
      return { text, data: all };
    }
    case "help":
      throw new Error("help is answered before the database is opened");
  }
}
