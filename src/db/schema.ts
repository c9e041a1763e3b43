import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { ACTIVE_STATES, JOB_STATES } from "../jobs/states.js";

/**
 * One schema for both drivers (postgres.js and PGlite). Migrations in `drizzle/` are generated from this file
 * with `npm run db:generate`; never edit the generated SQL by hand, except to fill a new column of the rows
 * already stored before it becomes required (0003 numbers the existing jobs).
 */

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
// Server time, so that every process (and the injectable clock of the domain) agrees on one source.
const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => sql`now()`);

/** Per-server settings kept as one document; later moderation options go here without a migration. */
export interface GuildSettings {
  [key: string]: unknown;
}

export const guilds = pgTable(
  "guilds",
  {
    /** Discord snowflake. */
    id: text("id").primaryKey(),
    balance: bigint("balance", { mode: "number" }).notNull().default(0),
    settings: jsonb("settings").$type<GuildSettings>().notNull().default({}),
    /** Credits the balance is topped up to at the start of each month (UTC); null: no allowance. */
    monthlyAllowance: bigint("monthly_allowance", { mode: "number" }),
    /** The month (`YYYY-MM`, UTC) of the last top-up: a compare-and-set on it tops up once per month. */
    allowanceMonth: text("allowance_month"),
    /**
     * The number of the server's latest job: members see jobs numbered per server (1, 2, 3, …). Counted up in
     * the transaction that stores a job, so a refused request takes no number.
     */
    lastJobNumber: integer("last_job_number").notNull().default(0),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: updatedAt(),
  },
  (t) => [check("guilds_balance_non_negative", sql`${t.balance} >= 0`)],
);

export const jobState = pgEnum("job_state", JOB_STATES);

/** What the poller looks at: every state that can still move. */
const activeStatesSql = sql.raw(ACTIVE_STATES.map((s) => `'${s}'`).join(", "));

/** What the last progress edit showed (rounded figures, not text), so an edit happens only on change. */
export interface JobProgress {
  shown: string;
  at: string;
}

export const jobs = pgTable(
  "jobs",
  {
    /** Internal (custom_ids, leases, the ledger); members see `number`. */
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** The job number members see: per server, from 1, unique in the server (`guilds.last_job_number`). */
    number: integer("number").notNull(),
    /** Discord interaction id: the idempotency key of the slash command that created the job. */
    interactionId: text("interaction_id").notNull().unique(),
    guildId: text("guild_id")
      .notNull()
      .references(() => guilds.id),
    channelId: text("channel_id").notNull(),
    userId: text("user_id").notNull(),
    /** The validated request plus display fields. */
    request: jsonb("request").$type<Record<string, unknown>>().notNull(),
    taskType: text("task_type").notNull(),
    estimatedCost: bigint("estimated_cost", { mode: "number" }).notNull(),
    chargedCost: bigint("charged_cost", { mode: "number" }),
    state: jobState("state").notNull().default("pending"),
    klingTaskId: text("kling_task_id"),
    attempts: integer("attempts").notNull().default(0),
    nextPollAt: timestamp("next_poll_at", { withTimezone: true }).notNull().defaultNow(),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    applicationId: text("application_id").notNull(),
    interactionToken: text("interaction_token"),
    tokenExpiresAt: timestamp("token_expires_at", { withTimezone: true }).notNull(),
    /** The reply showing the job (in `channel_id`), kept to edit it through the channel after the token. */
    replyMessageId: text("reply_message_id"),
    /** Waits for a manager's decision (its `next_poll_at` is then the deadline of that wait). */
    needsApproval: boolean("needs_approval").notNull().default(false),
    /** The approval request in the moderators' channel, edited to show who decided. */
    approvalMessageId: text("approval_message_id"),
    resultUrl: text("result_url"),
    /**
     * When the bot first sent the message that carries the video. Set before that post, so that a later
     * attempt (after an error or a restart) looks for it in the channel before posting again.
     */
    videoPostStartedAt: timestamp("video_post_started_at", { withTimezone: true }),
    /** The message that carries the video (a follow-up of the interaction, or a channel post). */
    videoMessageId: text("video_message_id"),
    /** Whether that message carries the file (true) or only the API's link to it (false). */
    videoAttached: boolean("video_attached"),
    /** Why the job ended without a video (or could not be posted): a code, with its parameters beside it. */
    errorCode: text("error_code"),
    errorParams: jsonb("error_params").$type<Record<string, unknown>>(),
    /** The requester's language, for every message that outlives the interaction. */
    locale: text("locale").notNull().default("en"),
    progress: jsonb("progress").$type<JobProgress>(),
    lastEditAt: timestamp("last_edit_at", { withTimezone: true }),
    createdAt: createdAt(),
    submittedAt: timestamp("submitted_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("jobs_kling_task_id_unique").on(t.klingTaskId).where(sql`${t.klingTaskId} is not null`),
    // The poller's query: due rows among the states that can still move.
    index("jobs_due_idx").on(t.nextPollAt).where(sql`${t.state} in (${activeStatesSql})`),
    index("jobs_guild_user_created_idx").on(t.guildId, t.userId, t.createdAt.desc()),
    index("jobs_guild_state_idx").on(t.guildId, t.state),
    // Target of the ledger's (job_id, guild_id) foreign key: a ledger row cannot name another guild's job.
    unique("jobs_id_guild_id_unique").on(t.id, t.guildId),
    // `/video status job` and `/video cancel job` find a job by its number within the member's server.
    unique("jobs_guild_id_number_unique").on(t.guildId, t.number),
  ],
);

/** Members a server's managers stopped from spending, with why and who. */
export const memberFreezes = pgTable(
  "member_freezes",
  {
    guildId: text("guild_id")
      .notNull()
      .references(() => guilds.id),
    userId: text("user_id").notNull(),
    reason: text("reason"),
    actorId: text("actor_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.guildId, t.userId] })],
);

export const LEDGER_KINDS = ["grant", "hold", "capture", "release", "adjustment"] as const;
export const ledgerKind = pgEnum("ledger_kind", LEDGER_KINDS);

/**
 * Append-only. `amount` is the signed change to the guild's balance, so a guild's balance always equals
 * the sum of its rows: hold < 0, release > 0, capture = the unused part of the hold (≥ 0), adjustment ≤ 0
 * (the API charged more than was held), grant either sign.
 */
export const creditLedger = pgTable(
  "credit_ledger",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    guildId: text("guild_id")
      .notNull()
      .references(() => guilds.id),
    userId: text("user_id"),
    jobId: bigint("job_id", { mode: "number" }),
    kind: ledgerKind("kind").notNull(),
    amount: bigint("amount", { mode: "number" }).notNull(),
    actorId: text("actor_id"),
    reason: text("reason"),
    flagged: boolean("flagged").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    // Composite, so that the job must belong to the same guild as the movement (structural tenant scoping).
    foreignKey({
      name: "credit_ledger_job_guild_fk",
      columns: [t.jobId, t.guildId],
      foreignColumns: [jobs.id, jobs.guildId],
    }),
    // A job has at most one hold, capture, release and adjustment; grants have no job and are not constrained.
    uniqueIndex("credit_ledger_job_kind_unique").on(t.jobId, t.kind),
    index("credit_ledger_guild_created_idx").on(t.guildId, t.createdAt),
    index("credit_ledger_guild_user_created_idx").on(t.guildId, t.userId, t.createdAt),
    check("credit_ledger_job_movements_have_job", sql`(${t.kind} = 'grant') = (${t.jobId} is null)`),
    check(
      "credit_ledger_amount_sign",
      sql`case when ${t.kind} in ('hold', 'adjustment') then ${t.amount} <= 0 when ${t.kind} in ('capture', 'release') then ${t.amount} >= 0 else true end`,
    ),
  ],
);

export type Guild = typeof guilds.$inferSelect;
export type Job = typeof jobs.$inferSelect;
export type LedgerEntry = typeof creditLedger.$inferSelect;
