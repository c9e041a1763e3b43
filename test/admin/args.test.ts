import { describe, expect, it } from "vitest";
import { parseAdminArgs, USAGE, UsageError } from "../../src/admin/args.js";

const GUILD = "910000000000000001";

function problemsOf(args: string[]): readonly string[] {
  try {
    parseAdminArgs(args);
  } catch (err) {
    if (err instanceof UsageError) return err.problems;
    throw err;
  }
  throw new Error(`accepted: ${args.join(" ")}`);
}

describe("the admin command's arguments", () => {
  it("reads each verb into a typed command", () => {
    expect(parseAdminArgs(["grant", GUILD, "500", "--reason", "contest prize"])).toEqual({
      command: { verb: "grant", guildId: GUILD, credits: 500, reason: "contest prize" },
      json: false,
    });
    // A negative figure is an argument, and options may come first, with `=`.
    expect(parseAdminArgs(["--reason=  moved to another server ", "grant", GUILD, "-200", "--json"])).toEqual(
      {
        command: { verb: "grant", guildId: GUILD, credits: -200, reason: "moved to another server" },
        json: true,
      },
    );
    expect(parseAdminArgs(["grant", GUILD, "+7", "--reason", "x"]).command).toMatchObject({ credits: 7 });
    expect(parseAdminArgs(["allowance", GUILD, "5000"]).command).toEqual({
      verb: "allowance",
      guildId: GUILD,
      credits: 5000,
    });
    expect(parseAdminArgs(["allowance", GUILD, "off"]).command).toMatchObject({ credits: null });
    expect(parseAdminArgs(["balance", GUILD]).command).toEqual({ verb: "balance", guildId: GUILD });
    expect(parseAdminArgs(["ledger", GUILD]).command).toEqual({
      verb: "ledger",
      guildId: GUILD,
      limit: 20,
      before: undefined,
    });
    expect(parseAdminArgs(["ledger", GUILD, "--limit", "5", "--before", "120"]).command).toMatchObject({
      limit: 5,
      before: 120,
    });
    expect(parseAdminArgs(["guilds"]).command).toEqual({ verb: "guilds" });
    expect(parseAdminArgs(["help"]).command).toEqual({ verb: "help" });
    expect(parseAdminArgs(["grant", "--help"]).command).toEqual({ verb: "help" });
  });

  it("names every problem and what to give instead", () => {
    expect(problemsOf([])).toEqual(["say what to do: one of grant, allowance, balance, ledger, guilds"]);
    expect(problemsOf(["gift", GUILD])).toEqual([
      'unknown verb "gift": use one of grant, allowance, balance, ledger, guilds',
    ]);
    expect(problemsOf(["grant", GUILD, "500"])).toEqual([
      '--reason is required: say why, e.g. --reason "prize for the May contest"',
    ]);
    expect(problemsOf(["grant", GUILD, "500", "--reason", "  "])).toEqual([
      '--reason must not be empty: say why, e.g. --reason "prize for the May contest"',
    ]);
    expect(problemsOf(["grant", GUILD, "500", "--reason"])).toEqual([
      '--reason must not be empty: say why, e.g. --reason "prize for the May contest"',
    ]);
    expect(problemsOf(["grant", GUILD, "500", "--reason", "x".repeat(501)])).toEqual([
      "--reason must be at most 500 characters",
    ]);
    expect(problemsOf(["grant", GUILD, "0", "--reason", "x"])).toEqual(["<credits> must not be 0"]);
    expect(problemsOf(["grant", GUILD, "12.5", "--reason", "x"])).toEqual([
      "<credits> must be a whole number such as 500, or -200 to take credits away",
    ]);
    expect(problemsOf(["grant", GUILD, "99999999999999999999", "--reason", "x"])).toEqual([
      "<credits> is too large",
    ]);
    expect(problemsOf(["grant", "my-server", "lots"])).toEqual([
      "<guild> must be a server id: 17 to 20 digits",
      "<credits> must be a whole number such as 500, or -200 to take credits away",
      '--reason is required: say why, e.g. --reason "prize for the May contest"',
    ]);
    expect(problemsOf(["grant"])).toEqual([
      "<guild> is missing: give the server's id",
      "<credits> is missing: give a whole number such as 500, or -200 to take credits away",
      '--reason is required: say why, e.g. --reason "prize for the May contest"',
    ]);
    expect(problemsOf(["allowance", GUILD, "0"])).toEqual([
      "<credits> must be at least 1 (use off to remove the allowance)",
    ]);
    expect(problemsOf(["allowance", GUILD, "-5"])).toEqual([
      "<credits> must be a whole number of credits, or off to remove the allowance",
    ]);
    expect(problemsOf(["allowance", GUILD])).toEqual([
      "<credits> is missing: give a whole number of credits, or off to remove the allowance",
    ]);
    expect(problemsOf(["ledger", GUILD, "--limit", "0"])).toEqual([
      "--limit must be a whole number from 1 to 100",
    ]);
    expect(problemsOf(["ledger", GUILD, "--before", "abc"])).toEqual([
      "--before must be a whole number from 1 to 9007199254740991",
    ]);
    expect(problemsOf(["balance", GUILD, "extra", "--reason", "x"])).toEqual([
      "unexpected extra: the form is balance <guild>",
      "balance takes no --reason option: the form is balance <guild>",
    ]);
    expect(problemsOf(["guilds", "--verbose", "-v"])).toEqual([
      "unknown option --verbose",
      "unknown option -v",
    ]);
  });

  it("lists every verb in the usage text", () => {
    for (const verb of ["grant", "allowance", "balance", "ledger", "guilds"]) {
      expect(USAGE).toMatch(new RegExp(`^ {2}${verb} `, "m"));
    }
  });
});
