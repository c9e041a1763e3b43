ALTER TABLE "jobs" ADD COLUMN "error_params" jsonb;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "locale" text DEFAULT 'en' NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" DROP COLUMN "reply_channel_id";--> statement-breakpoint
ALTER TABLE "jobs" DROP COLUMN "error_message";