import { z } from "zod";
import { ASPECT_RATIOS, type GenerateRequest, generateRequestSchema } from "../kling/types.js";
import type { JobRow } from "./repository.js";

/**
 * What `jobs.request` holds: the validated request for the API, what the replies show, what the adapter
 * needs to deliver, and, once its requester shared the video, where it was posted (gallery.ts). Read back
 * through this schema, never cast: a row written by an older version is refused with a clear error instead
 * of misread.
 */

const generate = z.unknown().transform((value, ctx): GenerateRequest => {
  const parsed = generateRequestSchema.safeParse(value);
  if (!parsed.success) {
    ctx.addIssue({ code: "custom", message: `stored generate request: ${parsed.error.issues[0]?.message}` });
    return z.NEVER;
  }
  return parsed.data as GenerateRequest;
});

export const displaySchema = z.object({
  subcommand: z.enum(["text", "image", "reference", "edit"]),
  model: z.string(),
  prompt: z.string(),
  duration: z.number().optional(),
  aspectRatio: z.enum(ASPECT_RATIOS).optional(),
  sound: z.boolean().optional(),
});

export const storedRequestSchema = z.object({
  generate,
  display: displaySchema,
  delivery: z.object({
    /** Largest attachment the interaction may upload (includes the requester's Nitro). */
    attachmentSizeLimit: z.number().int().positive(),
    /** Channel permissions the bot lacked at submit (Discord's names), shown as a warning with "queued". */
    missingPermissions: z.array(z.string()).default([]),
  }),
  gallery: z
    .object({
      /** When a process took on posting it (ISO time); a claim without a message grows stale. */
      claimedAt: z.string(),
      channelId: z.string(),
      messageId: z.string().optional(),
    })
    .optional(),
});

export type StoredRequest = z.output<typeof storedRequestSchema>;
export type StoredRequestInput = z.input<typeof storedRequestSchema>;
export type Display = z.output<typeof displaySchema>;

const parsed = new WeakMap<object, StoredRequest>();

/** The job's stored request, parsed once per row object. */
export function storedRequest(job: Pick<JobRow, "request">): StoredRequest {
  const hit = parsed.get(job.request);
  if (hit) return hit;
  const value = storedRequestSchema.parse(job.request);
  parsed.set(job.request, value);
  return value;
}
