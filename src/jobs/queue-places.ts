import { and, eq, inArray, isNull, lte, or } from "drizzle-orm";
import { jobs } from "../db/schema.js";
import { tell } from "./fail.js";
import { queuePlaces } from "./queue.js";
import type { JobServices } from "./services.js";

/** Replies edited per pass at most, nearest the front first: a long queue must not flood Discord with edits. */
const EDITS_PER_PASS = 50;

/**
 * Show each waiting member their job's place in the queue as it moves. A reply is edited at most once per
 * progress interval, and only when its place moved noticeably (by one near the front, by a tenth further
 * back); the edit is claimed with a compare-and-set on `last_edit_at`, so of several processes one edits.
 */
export async function showQueuePlaces(s: JobServices): Promise<void> {
  const now = s.now();
  const places = await queuePlaces(s.db, now);
  if (places.size === 0) return;
  const editedBefore = new Date(now.getTime() - s.settings.progressIntervalMs);
  const rows = await s.db
    .select({ id: jobs.id, progress: jobs.progress })
    .from(jobs)
    .where(
      and(
        inArray(jobs.id, [...places.keys()].sort((a, b) => places.get(a)! - places.get(b)!).slice(0, 500)),
        or(isNull(jobs.lastEditAt), lte(jobs.lastEditAt, editedBefore)),
        lte(jobs.createdAt, editedBefore),
      ),
    );
  const due = rows
    .map((row) => ({ id: row.id, place: places.get(row.id)!, shown: shownPlace(row.progress?.shown) }))
    .filter(({ place, shown }) => shown === undefined || Math.abs(place - shown) >= Math.max(1, shown / 10))
    .sort((a, b) => a.place - b.place)
    .slice(0, EDITS_PER_PASS);
  for (const { id, place } of due) {
    const [job] = await s.db
      .update(jobs)
      .set({ lastEditAt: now, progress: { shown: `queue:${place}`, at: now.toISOString() } })
      .where(
        and(
          eq(jobs.id, id),
          eq(jobs.state, "pending"),
          or(isNull(jobs.lastEditAt), lte(jobs.lastEditAt, editedBefore)),
        ),
      )
      .returning();
    if (job) await tell(s, job, (port) => port.waiting(job, { place, why: "turn" }));
  }
}

function shownPlace(shown: string | undefined): number | undefined {
  const match = /^queue:(\d+)$/.exec(shown ?? "");
  return match ? Number(match[1]) : undefined;
}
