CREATE TYPE "public"."job_state" AS ENUM('pending', 'submitting', 'running', 'delivering', 'completed', 'failed');--> statement-breakpoint
CREATE TYPE "public"."ledger_kind" AS ENUM('grant', 'hold', 'capture', 'release', 'adjustment');--> statement-breakpoint
CREATE TABLE "credit_ledger" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "credit_ledger_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"guild_id" text NOT NULL,
	"user_id" text,
	"job_id" bigint,
	"kind" "ledger_kind" NOT NULL,
	"amount" bigint NOT NULL,
	"actor_id" text,
	"reason" text,
	"flagged" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "credit_ledger_job_movements_have_job" CHECK (("credit_ledger"."kind" = 'grant') = ("credit_ledger"."job_id" is null)),
	CONSTRAINT "credit_ledger_amount_sign" CHECK (case when "credit_ledger"."kind" in ('hold', 'adjustment') then "credit_ledger"."amount" <= 0 when "credit_ledger"."kind" in ('capture', 'release') then "credit_ledger"."amount" >= 0 else true end)
);
--> statement-breakpoint
CREATE TABLE "guilds" (
	"id" text PRIMARY KEY NOT NULL,
	"balance" bigint DEFAULT 0 NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "guilds_balance_non_negative" CHECK ("guilds"."balance" >= 0)
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "jobs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"interaction_id" text NOT NULL,
	"guild_id" text NOT NULL,
	"channel_id" text NOT NULL,
	"user_id" text NOT NULL,
	"request" jsonb NOT NULL,
	"task_type" text NOT NULL,
	"estimated_cost" bigint NOT NULL,
	"charged_cost" bigint,
	"state" "job_state" DEFAULT 'pending' NOT NULL,
	"kling_task_id" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_poll_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"application_id" text NOT NULL,
	"interaction_token" text,
	"token_expires_at" timestamp with time zone NOT NULL,
	"reply_message_id" text,
	"reply_channel_id" text,
	"result_url" text,
	"error_code" text,
	"error_message" text,
	"progress" jsonb,
	"last_edit_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"submitted_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "jobs_interaction_id_unique" UNIQUE("interaction_id"),
	CONSTRAINT "jobs_id_guild_id_unique" UNIQUE("id","guild_id")
);
--> statement-breakpoint
ALTER TABLE "credit_ledger" ADD CONSTRAINT "credit_ledger_guild_id_guilds_id_fk" FOREIGN KEY ("guild_id") REFERENCES "public"."guilds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_ledger" ADD CONSTRAINT "credit_ledger_job_guild_fk" FOREIGN KEY ("job_id","guild_id") REFERENCES "public"."jobs"("id","guild_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_guild_id_guilds_id_fk" FOREIGN KEY ("guild_id") REFERENCES "public"."guilds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "credit_ledger_job_kind_unique" ON "credit_ledger" USING btree ("job_id","kind");--> statement-breakpoint
CREATE INDEX "credit_ledger_guild_created_idx" ON "credit_ledger" USING btree ("guild_id","created_at");--> statement-breakpoint
CREATE INDEX "credit_ledger_guild_user_created_idx" ON "credit_ledger" USING btree ("guild_id","user_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_kling_task_id_unique" ON "jobs" USING btree ("kling_task_id") WHERE "jobs"."kling_task_id" is not null;--> statement-breakpoint
CREATE INDEX "jobs_due_idx" ON "jobs" USING btree ("next_poll_at") WHERE "jobs"."state" in ('pending', 'submitting', 'running', 'delivering');--> statement-breakpoint
CREATE INDEX "jobs_guild_user_created_idx" ON "jobs" USING btree ("guild_id","user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "jobs_guild_state_idx" ON "jobs" USING btree ("guild_id","state");