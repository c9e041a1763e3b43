import { and, eq, or, sql } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { jobs } from "../db/schema.js";
import { findGuildJob, type JobRow } from "./repository.js";
import { storedRequest } from "./request.js";

/**
 * A finished video in its server's gallery channel, posted once however many times, and from however many
 * processes, its requester clicks Share. The record lives in the job's own request document
 * (`request.gallery`): a process first claims the post with a compare-and-set, posts, then records the
 * message. A claim whose process died before recording grows stale and may be taken again; the adapter's post
 * carries a nonce, so the retry returns the first message if there was one. Every query is filtered by the
 * guild.
 */

/** After this long a claim without a message is taken for its process having died. */
const GALLERY_CLAIM_STALE_MS = 2 * 60_000;

export type GalleryClaim =
  | { kind: "claimed"; job: JobRow; claimedAt: string }
  | { kind: "shared"; channelId: string; messageId: string }
  | { kind: "busy" }
  | { kind: "gone" };

const gallery = sql`${jobs.request} -> 'gallery'`;

/** Take on posting a completed job's video to `channelId`, unless it is there already or being posted. */
export async function claimGalleryPost(
  db: Database,
  input: { guildId: string; jobId: number; channelId: string; now: Date },
): Promise<GalleryClaim> {
  const claimedAt = input.now.toISOString();
  const stale = new Date(input.now.getTime() - GALLERY_CLAIM_STALE_MS).toISOString();
  const claim = JSON.stringify({ claimedAt, channelId: input.channelId });
  const [row] = await db
    .update(jobs)
    .set({ request: sql`jsonb_set(${jobs.request}, '{gallery}', ${claim}::jsonb)` })
    .where(
      and(
        eq(jobs.id, input.jobId),
        eq(jobs.guildId, input.guildId),
        eq(jobs.state, "completed"),
        or(
          sql`${gallery} is null`,
          sql`(${gallery} ->> 'messageId') is null and (${gallery} ->> 'claimedAt')::timestamptz < ${stale}::timestamptz`,
        ),
      ),
    )
    .returning();
  if (row) return { kind: "claimed", job: row, claimedAt };
  const job = await findGuildJob(db, input.guildId, input.jobId);
  const shared = job && job.state === "completed" ? storedRequest(job).gallery : undefined;
  if (shared?.messageId) return { kind: "shared", channelId: shared.channelId, messageId: shared.messageId };
  return shared ? { kind: "busy" } : { kind: "gone" };
}

/** The claim held by `claimedAt` posted its message. */
export async function recordGalleryPost(
  db: Database,
  input: { guildId: string; jobId: number; claimedAt: string; messageId: string },
): Promise<void> {
  await db
    .update(jobs)
    .set({
      request: sql`jsonb_set(${jobs.request}, '{gallery,messageId}', to_jsonb(${input.messageId}::text))`,
    })
    .where(ownClaim(input));
}

/** The claim held by `claimedAt` could not post: let a later click try again. */
export async function releaseGalleryClaim(
  db: Database,
  input: { guildId: string; jobId: number; claimedAt: string },
): Promise<void> {
  await db
    .update(jobs)
    .set({ request: sql`${jobs.request} - 'gallery'` })
    .where(and(ownClaim(input), sql`(${gallery} ->> 'messageId') is null`));
}

function ownClaim(input: { guildId: string; jobId: number; claimedAt: string }) {
  return and(
    eq(jobs.id, input.jobId),
    eq(jobs.guildId, input.guildId),
    sql`${gallery} ->> 'claimedAt' = ${input.claimedAt}`,
  );
}
