import { existsSync } from "node:fs";
import { z } from "zod";

/**
 * The only module that reads the environment. Everything else receives a parsed `Config`.
 * Problems are collected and reported together, naming the variable but never echoing its value.
 */

const snowflake = z.string().regex(/^\d{17,20}$/, "must be a Discord id (17–20 digits)");

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const httpUrl = (fallback: string | undefined) =>
  optionalString
    .pipe(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional())
    .transform((v) => (v ?? fallback)?.replace(/\/+$/, ""));

const numberIn = <F extends number | undefined>(fallback: F, min: number, max: number, integer: boolean) =>
  optionalString.transform((v, ctx) => {
    if (v === undefined) return fallback as number | F;
    const n = Number(v);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      ctx.addIssue({
        code: "custom",
        message: `must be ${integer ? "a whole number" : "a number"} from ${min} to ${max}`,
      });
      return z.NEVER;
    }
    return n;
  });

const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  numberIn(fallback, min, max, true);
const num = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  numberIn(fallback, min, max, false);

const idList = optionalString.transform((v, ctx) => {
  const ids = (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of ids) {
    if (!snowflake.safeParse(id).success) {
      ctx.addIssue({ code: "custom", message: "must be comma-separated Discord ids (17–20 digits each)" });
      return z.NEVER;
    }
  }
  return ids;
});

const logLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

export const envSchema = z.object({
  DISCORD_TOKEN: optionalString,
  DISCORD_API_URL: httpUrl(undefined),
  KLING_API_KEY: optionalString,
  KLING_API_URL: httpUrl("https://kling3api.com"),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// connection string")
      .optional(),
  ),
  DATA_DIR: optionalString.transform((v) => v ?? "./data"),
  DEFAULT_GUILD_CREDITS: int(0, 0),
  BOT_OWNER_IDS: idList,
  OPERATOR_CHANNEL_ID: optionalString.pipe(snowflake.optional()),
  DEV_GUILD_ID: optionalString.pipe(snowflake.optional()),
  ALLOWED_GUILD_IDS: idList,
  LOG_LEVEL: optionalString.pipe(logLevel.optional()).transform((v) => v ?? "info"),
  LOG_PRETTY: optionalString.pipe(z.stringbool().optional()),
  // Read by the entry point (start.ts) before anything loads; checked here with the rest.
  MEMORY_MODE: optionalString.pipe(z.enum(["small", "fast"]).optional()),
  // Kling client tuning.
  KLING_RATE_LIMIT_PER_SEC: num(5, 0.1, 1000),
  KLING_TIMEOUT_MS: int(30_000, 100, 600_000),
  KLING_MAX_RETRIES: int(4, 0, 20),
  KLING_MAX_IN_FLIGHT: int(5, 1, 10_000),
  // Polling loop tuning.
  POLL_INTERVAL_MS: int(5_000, 50, 600_000),
  PROGRESS_INTERVAL_MS: int(10_000, 0, 600_000),
  JOB_TIMEOUT_MS: int(30 * 60_000, 1_000, 24 * 3_600_000),
  POLL_CONCURRENCY: int(8, 1, 256),
  JOB_LEASE_MS: int(120_000, 500, 3_600_000),
  ALLOWANCE_CHECK_INTERVAL_MS: int(60_000, 100, 24 * 3_600_000),
  MAX_VIDEO_BYTES: int(100 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024),
  // Fetching finished videos.
  DELIVERY_CONCURRENCY: int(4, 1, 64),
  DOWNLOAD_TIMEOUT_MS: int(120_000, 500, 3_600_000),
  DOWNLOAD_MIN_BYTES_PER_SEC: int(32 * 1024, 0, 1024 * 1024 * 1024),
  TRUSTED_VIDEO_ORIGINS: optionalString.transform((v, ctx) => {
    const origins: string[] = [];
    for (const item of (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      try {
        const url = new URL(item);
        if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("scheme");
        origins.push(url.origin);
      } catch {
        ctx.addIssue({
          code: "custom",
          message: "must be comma-separated http(s) origins, e.g. https://cdn.example.com",
        });
        return z.NEVER;
      }
    }
    return origins;
  }),
  REGISTER_COMMANDS: optionalString.pipe(z.stringbool().optional()).transform((v) => v ?? true),
  // Scaling: what this process does, and which gateway shard it runs.
  PROCESS_ROLE: optionalString
    .pipe(z.enum(["all", "gateway", "worker"]).optional())
    .transform((v) => v ?? "all"),
  SHARD_ID: numberIn(undefined, 0, 65_535, true),
  SHARD_COUNT: numberIn(undefined, 1, 65_536, true),
  // Health and metrics (src/health, src/metrics): off unless a port is given.
  METRICS_PORT: numberIn(undefined, 0, 65_535, true),
  METRICS_HOST: optionalString.transform((v) => v ?? "127.0.0.1"),
  METRICS_TOP_GUILDS: int(20, 1, 1_000),
});

export interface Config {
  discordToken: string | undefined;
  discordApiUrl: string | undefined;
  klingApiKey: string | undefined;
  klingApiUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  defaultGuildCredits: number;
  botOwnerIds: readonly string[];
  /** Where operators hear of incidents (the API account empty, the key refused); else a DM to each owner. */
  operatorChannelId: string | undefined;
  devGuildId: string | undefined;
  /** The only servers the bot stays in (it leaves any other); undefined: every server that invites it. */
  allowedGuildIds: readonly string[] | undefined;
  /** How often each polling process looks for monthly allowances due. */
  allowanceCheckIntervalMs: number;
  logLevel: z.infer<typeof logLevel>;
  logPretty: boolean;
  kling: {
    ratePerSecond: number;
    timeoutMs: number;
    maxRetries: number;
    /** Tasks the API account runs at once (Kling's per-account concurrency): the queue's cap. */
    maxInFlight: number;
  };
  poll: {
    intervalMs: number;
    progressIntervalMs: number;
    jobTimeoutMs: number;
    concurrency: number;
    maxVideoBytes: number;
    leaseMs: number;
    deliveryConcurrency: number;
  };
  download: {
    timeoutMs: number;
    minBytesPerSecond: number;
    /** Origins whose video links are fetched without the https and public-address rules; the API's own is one. */
    trustedOrigins: readonly string[];
  };
  registerCommands: boolean;
  /** `all`: gateway and poller; `gateway`: answers commands only; `worker`: polls and delivers only. */
  role: "all" | "gateway" | "worker";
  shard: { id: number; count: number } | undefined;
  /**
   * `GET /healthz` and `GET /metrics` on this address; undefined when `METRICS_PORT` is unset. `topGuilds`: the
   * servers with the most credits moved get their own label in the credit metrics, the rest are summed as "other".
   */
  metrics: { host: string; port: number; topGuilds: number } | undefined;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export type Requirement = "bot" | "kling";

/**
 * Parse an environment (defaults to `process.env`, after reading `.env` when present).
 * `require` lists the parts the caller needs, so that e.g. the simulator or the deploy script
 * do not demand secrets they never use.
 */
export function loadConfig(
  env: Record<string, string | undefined> = readProcessEnv(),
  require: readonly Requirement[] = [],
): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join(".") || "environment"}: ${issue.message}`);
    }
  }
  const e = parsed.success ? parsed.data : undefined;
  if (require.includes("bot") && !env.DISCORD_TOKEN?.trim()) problems.push("DISCORD_TOKEN: required");
  if (require.includes("kling") && !env.KLING_API_KEY?.trim()) problems.push("KLING_API_KEY: required");
  if (
    (env.SHARD_ID?.trim() === "" || env.SHARD_ID === undefined) !==
    (env.SHARD_COUNT?.trim() === "" || env.SHARD_COUNT === undefined)
  ) {
    problems.push("SHARD_ID and SHARD_COUNT: set both or neither");
  } else if (e?.SHARD_ID !== undefined && e.SHARD_COUNT !== undefined && e.SHARD_ID >= e.SHARD_COUNT) {
    problems.push("SHARD_ID: must be less than SHARD_COUNT");
  }
  if (problems.length > 0 || !e) throw new ConfigError(problems);

  return {
    discordToken: e.DISCORD_TOKEN,
    discordApiUrl: e.DISCORD_API_URL,
    klingApiKey: e.KLING_API_KEY,
    klingApiUrl: e.KLING_API_URL ?? "https://kling3api.com",
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    defaultGuildCredits: e.DEFAULT_GUILD_CREDITS,
    botOwnerIds: e.BOT_OWNER_IDS,
    operatorChannelId: e.OPERATOR_CHANNEL_ID,
    devGuildId: e.DEV_GUILD_ID,
    allowedGuildIds: e.ALLOWED_GUILD_IDS.length > 0 ? e.ALLOWED_GUILD_IDS : undefined,
    allowanceCheckIntervalMs: e.ALLOWANCE_CHECK_INTERVAL_MS,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY ?? Boolean(process.stdout.isTTY),
    kling: {
      ratePerSecond: e.KLING_RATE_LIMIT_PER_SEC,
      timeoutMs: e.KLING_TIMEOUT_MS,
      maxRetries: e.KLING_MAX_RETRIES,
      maxInFlight: e.KLING_MAX_IN_FLIGHT,
    },
    poll: {
      intervalMs: e.POLL_INTERVAL_MS,
      progressIntervalMs: e.PROGRESS_INTERVAL_MS,
      jobTimeoutMs: e.JOB_TIMEOUT_MS,
      concurrency: e.POLL_CONCURRENCY,
      maxVideoBytes: e.MAX_VIDEO_BYTES,
      leaseMs: e.JOB_LEASE_MS,
      deliveryConcurrency: e.DELIVERY_CONCURRENCY,
    },
    download: {
      timeoutMs: e.DOWNLOAD_TIMEOUT_MS,
      minBytesPerSecond: e.DOWNLOAD_MIN_BYTES_PER_SEC,
      trustedOrigins: [
        ...new Set([new URL(e.KLING_API_URL ?? "https://kling3api.com").origin, ...e.TRUSTED_VIDEO_ORIGINS]),
      ],
    },
    registerCommands: e.REGISTER_COMMANDS,
    role: e.PROCESS_ROLE,
    shard:
      e.SHARD_ID !== undefined && e.SHARD_COUNT !== undefined
        ? { id: e.SHARD_ID, count: e.SHARD_COUNT }
        : undefined,
    metrics:
      e.METRICS_PORT === undefined
        ? undefined
        : { host: e.METRICS_HOST, port: e.METRICS_PORT, topGuilds: e.METRICS_TOP_GUILDS },
  };
}

/** The process environment, with `.env` applied underneath it when the file exists. */
export function readProcessEnv(): Record<string, string | undefined> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  return { ...process.env };
}

/**
 * The V8 flags `MEMORY_MODE` asks for, for the entry point to set before anything is compiled: `small` (the
 * default) keeps the heap small, and on PGlite (no `DATABASE_URL`) runs its WebAssembly on V8's baseline
 * compiler only, whose optimising tier keeps some 65 MiB of code and compiler memory for about 20 % more
 * statements per second; `fast` keeps V8's defaults. A value other than these is refused by `loadConfig`.
 */
export function memoryFlags(env: Record<string, string | undefined>): string[] {
  if (env.MEMORY_MODE?.trim() === "fast") return [];
  const flags = ["--optimize-for-size"];
  if (!env.DATABASE_URL?.trim()) flags.push("--no-wasm-tier-up", "--no-wasm-dynamic-tiering");
  return flags;
}
