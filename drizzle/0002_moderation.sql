CREATE TABLE "member_freezes" (
	"guild_id" text NOT NULL,
	"user_id" text NOT NULL,
	"reason" text,
	"actor_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "member_freezes_guild_id_user_id_pk" PRIMARY KEY("guild_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "guilds" ADD COLUMN "monthly_allowance" bigint;--> statement-breakpoint
ALTER TABLE "guilds" ADD COLUMN "allowance_month" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "needs_approval" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "approval_message_id" text;--> statement-breakpoint
ALTER TABLE "member_freezes" ADD CONSTRAINT "member_freezes_guild_id_guilds_id_fk" FOREIGN KEY ("guild_id") REFERENCES "public"."guilds"("id") ON DELETE no action ON UPDATE no action;