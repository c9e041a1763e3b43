import { readProcessEnv } from "../config.js";
import { runAdmin } from "./cli.js";

/** Entry point of `npm run admin -- <verb> …` (see `USAGE` in args.ts and the README, "Operators"). */
process.exitCode = await runAdmin(process.argv.slice(2), {
  env: readProcessEnv(),
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  now: () => new Date(),
});
