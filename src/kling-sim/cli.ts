import { parseArgs } from "node:util";
import { describePrice } from "../kling/pricing.js";
import { TASK_TYPES } from "../kling/types.js";
import {
  type KlingSimulator,
  type KlingSimulatorOptions,
  PROMPT_MARKERS,
  startKlingSimulator,
} from "./server.js";

/**
 * The operator's entry to the simulator. Settings come from flags only: the config rule keeps every
 * environment read in src/config.ts, and the simulator needs none of the bot's settings.
 */

export const USAGE = `Usage: npm run kling:sim -- [options]

  --port <n>          port to listen on (default 8787; 0 picks a free one)
  --host <addr>       address to bind (default 127.0.0.1)
  --api-key <key>     the key the bot must send (default sim-key)
  --task-ms <n>       how long each task stays IN_PROGRESS (default 20000)
  --balance <n>       account credits (default 100000)
  --video-bytes <n>   pad served videos to this size (default: the 3 KB sample)
  --public-url <url>  base of the video URLs in results (default: the listening URL)
  --quiet             do not print each request
  --help              show this text`;

export class SimArgsError extends Error {}

function num(
  flag: string,
  value: string | undefined,
  fallback: number | undefined,
  min: number,
): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < min) {
    throw new SimArgsError(`--${flag} must be a whole number ≥ ${min}, got "${value}"`);
  }
  return n;
}

export interface SimCliSettings extends KlingSimulatorOptions {
  quiet: boolean;
  help: boolean;
}

export function parseSimArgs(argv: readonly string[]): SimCliSettings {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "api-key": { type: "string" },
        "task-ms": { type: "string" },
        balance: { type: "string" },
        "video-bytes": { type: "string" },
        "public-url": { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean" },
      },
    }));
  } catch (err) {
    throw new SimArgsError(err instanceof Error ? err.message : String(err));
  }
  const str = (k: string) => values[k] as string | undefined;
  const apiKey = str("api-key") ?? "sim-key";
  if (apiKey.trim() === "") throw new SimArgsError("--api-key must not be empty");
  const publicUrl = str("public-url");
  if (publicUrl !== undefined && !/^https?:\/\/\S+$/.test(publicUrl)) {
    throw new SimArgsError("--public-url must be an http(s) URL");
  }
  return {
    port: num("port", str("port"), 8787, 0),
    host: str("host") ?? "127.0.0.1",
    apiKey,
    taskDurationMs: num("task-ms", str("task-ms"), 20_000, 0),
    balance: num("balance", str("balance"), 100_000, 0),
    videoBytes: num("video-bytes", str("video-bytes"), undefined, 0),
    ...(publicUrl ? { publicUrl } : {}),
    quiet: values.quiet === true,
    help: values.help === true,
  };
}

/** The lines printed at start: where it listens and how to point the bot at it. */
export function banner(sim: KlingSimulator, settings: SimCliSettings): string {
  const prices = TASK_TYPES.map((t) => `    ${t.padEnd(27)} ${describePrice(t)}`).join("\n");
  const markers = Object.keys(PROMPT_MARKERS).join(" ");
  return `Kling simulator listening on ${sim.url}

Point the bot at it:
  KLING_API_URL=${sim.url}
  KLING_API_KEY=${sim.apiKey}

Tasks run for ${settings.taskDurationMs} ms; balance ${sim.balance()} credits. Prices:
${prices}
Prompt markers that pick an outcome: ${markers}
Control: GET /_sim/requests  GET /_sim/tasks  GET|POST /_sim/balance {"balance":n}
         POST /_sim/fail-next {"route":"generate","kind":"error","status":500,"times":1}
         POST /_sim/finish {"task_id":"…","outcome":"failed"}  POST /_sim/faults/clear
Stop with Ctrl+C.`;
}

/** Start the simulator from command-line flags; resolves to the running simulator (or undefined after --help). */
export async function runSimulatorCli(
  argv: readonly string[],
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<KlingSimulator | undefined> {
  const settings = parseSimArgs(argv);
  if (settings.help) {
    print(USAGE);
    return undefined;
  }
  const { quiet, help: _help, ...options } = settings;
  const sim = await startKlingSimulator({
    ...options,
    onRequest: quiet
      ? undefined
      : (r) =>
          print(
            `${new Date(r.at).toISOString()} ${r.method} ${r.path}${r.query.task_id ? ` ${r.query.task_id}` : ""}${r.fault ? ` [fault: ${r.fault}]` : ""}`,
          ),
  });
  print(banner(sim, settings));
  return sim;
}
