import { z } from "zod";
import { MAX_LEDGER_PAGE } from "../ledger/index.js";

/** What the operator asked for, checked: the verbs of `npm run admin -- <verb>`. */
export type AdminCommand =
  | { verb: "grant"; guildId: string; credits: number; reason: string }
  | { verb: "allowance"; guildId: string; credits: number | null }
  | { verb: "balance"; guildId: string }
  | { verb: "ledger"; guildId: string; limit: number; before: number | undefined }
  | { verb: "guilds" }
  | { verb: "help" };

export interface AdminRequest {
  command: AdminCommand;
  /** Print the result as JSON instead of text. */
  json: boolean;
}

/** Bad arguments: the message says what to change (exit status 2). */
export class UsageError extends Error {
  readonly code = "usage" as const;
  readonly problems: readonly string[];
  constructor(problems: readonly string[], verb?: string) {
    const list = problems.length === 1 ? ` ${problems[0]}` : problems.map((p) => `\n  - ${p}`).join("");
    super(`${verb === undefined ? "" : `${verb}:`}${list}`.trim());
    this.name = "UsageError";
    this.problems = problems;
  }
}

const DEFAULT_LEDGER_LIMIT = 20;
const MAX_REASON_LENGTH = 500;

const guildId = z
  .string({ error: "<guild> is missing: give the server's id" })
  .regex(/^\d{17,20}$/, "<guild> must be a server id: 17 to 20 digits");

const grantCredits = z
  .string({ error: "<credits> is missing: give a whole number such as 500, or -200 to take credits away" })
  .regex(/^[+-]?\d+$/, "<credits> must be a whole number such as 500, or -200 to take credits away")
  .transform(Number)
  .refine(Number.isSafeInteger, "<credits> is too large")
  .refine((n) => n !== 0, "<credits> must not be 0");

const allowanceCredits = z
  .string({ error: "<credits> is missing: give a whole number of credits, or off to remove the allowance" })
  .regex(/^(off|\d+)$/i, "<credits> must be a whole number of credits, or off to remove the allowance")
  .transform((v) => (v.toLowerCase() === "off" ? null : Number(v)))
  .refine((n) => n === null || Number.isSafeInteger(n), "<credits> is too large")
  .refine((n) => n !== 0, "<credits> must be at least 1 (use off to remove the allowance)");

const reason = z
  .string({ error: '--reason is required: say why, e.g. --reason "prize for the May contest"' })
  .trim()
  .min(1, '--reason must not be empty: say why, e.g. --reason "prize for the May contest"')
  .max(MAX_REASON_LENGTH, `--reason must be at most ${MAX_REASON_LENGTH} characters`);

const wholeNumber = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be a whole number from ${min} to ${max}`);

/** One schema a verb: the positionals and options it takes, and the typed command they make. */
const VERBS = {
  grant: {
    usage: 'grant <guild> <credits> --reason "…"',
    summary: "add credits to a server; negative takes them away (never below 0)",
    arity: 2,
    options: ["reason"],
    schema: z
      .object({ guild: guildId, credits: grantCredits, reason })
      .transform(
        (a): AdminCommand => ({ verb: "grant", guildId: a.guild, credits: a.credits, reason: a.reason }),
      ),
  },
  allowance: {
    usage: "allowance <guild> <credits|off>",
    summary: "the monthly allowance: the balance is topped up to it on the 1st (UTC)",
    arity: 2,
    options: [],
    schema: z
      .object({ guild: guildId, credits: allowanceCredits })
      .transform((a): AdminCommand => ({ verb: "allowance", guildId: a.guild, credits: a.credits })),
  },
  balance: {
    usage: "balance <guild>",
    summary: "a server's balance, credits held by jobs in flight, allowance",
    arity: 1,
    options: [],
    schema: z
      .object({ guild: guildId })
      .transform((a): AdminCommand => ({ verb: "balance", guildId: a.guild })),
  },
  ledger: {
    usage: "ledger <guild> [--limit N] [--before ROW]",
    summary: `the server's latest ledger rows, newest first (N: 1–${MAX_LEDGER_PAGE}, default ${DEFAULT_LEDGER_LIMIT})`,
    arity: 1,
    options: ["limit", "before"],
    schema: z
      .object({
        guild: guildId,
        limit: wholeNumber("--limit", 1, MAX_LEDGER_PAGE).optional(),
        before: wholeNumber("--before", 1, Number.MAX_SAFE_INTEGER).optional(),
      })
      .transform(
        (a): AdminCommand => ({
          verb: "ledger",
          guildId: a.guild,
          limit: a.limit ?? DEFAULT_LEDGER_LIMIT,
          before: a.before,
        }),
      ),
  },
  guilds: {
    usage: "guilds",
    summary: "every server in the database",
    arity: 0,
    options: [],
    schema: z.object({}).transform((): AdminCommand => ({ verb: "guilds" })),
  },
} as const satisfies Record<
  string,
  {
    usage: string;
    summary: string;
    arity: number;
    options: readonly string[];
    schema: z.ZodType<AdminCommand, Record<string, unknown>>;
  }
>;

type Verb = keyof typeof VERBS;
const VERB_NAMES = Object.keys(VERBS).join(", ");
const usageWidth = Math.max(...Object.values(VERBS).map((v) => v.usage.length));

export const USAGE = `Usage: npm run admin -- <verb> [arguments] [--json]

${Object.values(VERBS)
  .map((v) => `  ${v.usage.padEnd(usageWidth)}  ${v.summary}`)
  .join("\n")}

<guild> is a server id (in Discord, with Developer Mode on: right-click the server, Copy Server ID).
--json prints the result as JSON. The database is the bot's: DATABASE_URL, else the embedded one in DATA_DIR
(default ./data), read from the environment and .env as the bot reads them.
Exit status: 0 done, 2 bad arguments, 1 error.`;
const OPTIONS_WITH_VALUE = new Set(["reason", "limit", "before"]);
const POSITIONAL_NAMES = ["guild", "credits"] as const;

/**
 * Turn the words after `npm run admin --` into a command, or throw a `UsageError` listing every problem. A
 * negative number (`-200`) is an argument, not an option; options may come anywhere, as `--name value` or
 * `--name=value`.
 */
export function parseAdminArgs(argv: readonly string[]): AdminRequest {
  const positionals: string[] = [];
  const options = new Map<string, string>();
  let json = false;
  let help = false;
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--json") json = true;
    else if (word === "--help" || word === "-h") help = true;
    else if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      const name = word.slice(2, eq < 0 ? undefined : eq);
      if (!OPTIONS_WITH_VALUE.has(name)) {
        problems.push(`unknown option ${word.slice(0, eq < 0 ? undefined : eq)}`);
        continue;
      }
      const value = eq < 0 ? argv[++i] : word.slice(eq + 1);
      // A missing value is checked like an empty one: the verb's schema says what to give.
      options.set(name, value ?? "");
    } else if (word.startsWith("-") && !/^-\d+$/.test(word)) problems.push(`unknown option ${word}`);
    else positionals.push(word);
  }
  const [verbWord, ...args] = positionals;
  if (help || verbWord === "help") return { command: { verb: "help" }, json };
  if (verbWord === undefined) throw new UsageError([`say what to do: one of ${VERB_NAMES}`]);
  if (!Object.hasOwn(VERBS, verbWord)) {
    throw new UsageError([`unknown verb "${verbWord}": use one of ${VERB_NAMES}`]);
  }
  const verb = verbWord as Verb;
  const spec = VERBS[verb];
  if (args.length > spec.arity) {
    problems.push(`unexpected ${args.slice(spec.arity).join(" ")}: the form is ${spec.usage}`);
  }
  for (const name of options.keys()) {
    if (!(spec.options as readonly string[]).includes(name))
      problems.push(`${verb} takes no --${name} option: the form is ${spec.usage}`);
  }
  const raw: Record<string, unknown> = Object.fromEntries(options);
  args.slice(0, spec.arity).forEach((value, i) => {
    raw[POSITIONAL_NAMES[i]!] = value;
  });
  const parsed = spec.schema.safeParse(raw);
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => issue.message));
  if (problems.length > 0 || !parsed.success) throw new UsageError(problems, verb);
  return { command: parsed.data, json };
}
