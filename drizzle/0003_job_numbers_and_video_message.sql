ALTER TABLE "guilds" ADD COLUMN "last_job_number" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Generated as one NOT NULL column; split by hand so that the jobs already stored get their numbers first:
-- numbered per server in the order they were made, and each server's counter set to its highest number.
ALTER TABLE "jobs" ADD COLUMN "number" integer;--> statement-breakpoint
UPDATE "jobs" SET "number" = "numbered"."n"
  FROM (SELECT "id", row_number() OVER (PARTITION BY "guild_id" ORDER BY "id") AS "n" FROM "jobs") AS "numbered"
  WHERE "jobs"."id" = "numbered"."id";--> statement-breakpoint
UPDATE "guilds" SET "last_job_number" = "counted"."last"
  FROM (SELECT "guild_id", max("number") AS "last" FROM "jobs" GROUP BY "guild_id") AS "counted"
  WHERE "guilds"."id" = "counted"."guild_id";--> statement-breakpoint
ALTER TABLE "jobs" ALTER COLUMN "number" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "video_post_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "video_message_id" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "video_attached" boolean;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_guild_id_number_unique" UNIQUE("guild_id","number");
