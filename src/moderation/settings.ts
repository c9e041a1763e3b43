import { z } from "zod";
import { MODELS } from "../kling/types.js";

/**
 * How a server shares its budget: the settings its managers choose with `/budget config`, `/budget channels`,
 * `/budget roles` and `/budget blocklist`, kept as one document in `guilds.settings` and read through this
 * schema (a missing field takes its default, so older documents stay valid).
 */

const snowflake = z.string().regex(/^\d{17,20}$/);

export const DEFAULT_MEMBER_JOBS = 2;
export const DEFAULT_SERVER_JOBS = 10;

export const guildSettingsSchema = z.object({
  /** Credits one member may spend per UTC day; 0: no cap. */
  dailyCap: z.number().int().min(0).default(0),
  /** A member's jobs in flight. */
  memberJobs: z.number().int().min(1).default(DEFAULT_MEMBER_JOBS),
  /** The server's jobs in flight. */
  serverJobs: z.number().int().min(1).default(DEFAULT_SERVER_JOBS),
  /** Longest video a member may ask for, in seconds; undefined: the API's own limit. */
  maxDuration: z.number().int().min(3).max(15).optional(),
  allowSound: z.boolean().default(true),
  /** Models members may use; empty: all. */
  allowedModels: z.array(z.enum(MODELS)).default([]),
  defaultModel: z.enum(MODELS).optional(),
  /** A job estimated above this many credits waits for a manager; 0: never. */
  approvalAbove: z.number().int().min(0).default(0),
  /** Where approvals and the audit trail go. */
  moderatorChannelId: snowflake.optional(),
  /** Where members share their finished videos (the Share button); unset: no gallery. */
  galleryChannelId: snowflake.optional(),
  /** Members with this role manage the server's budget, besides those with Manage Server. */
  managerRoleId: snowflake.optional(),
  /** Channels where `/video` may be used; empty: everywhere. */
  channels: z.array(snowflake).default([]),
  /** Roles allowed to generate; empty: everyone. */
  roles: z.array(snowflake).default([]),
  /** Phrases refused in prompts and negative prompts. */
  blocklist: z
    .array(z.object({ phrase: z.string().min(1).max(100), reason: z.string().max(200).optional() }))
    .default([]),
});

export type GuildSettingsValue = z.output<typeof guildSettingsSchema>;

/** The settings of a server as stored; anything unreadable falls back to the defaults (and is logged by the caller). */
export function readSettings(stored: unknown): GuildSettingsValue {
  const parsed = guildSettingsSchema.safeParse(stored ?? {});
  return parsed.success ? parsed.data : guildSettingsSchema.parse({});
}
