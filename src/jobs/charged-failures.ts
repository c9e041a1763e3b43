import { and, eq, gt, sql } from "drizzle-orm";
import { jobs } from "../db/schema.js";
import type { JobRow } from "./repository.js";
import type { JobServices } from "./services.js";

/**
 * Failed tasks the API still charged for. The server gets its credits back all the same (it never pays for a
 * video it does not get), so the API account pays. One such failure is the API's business; several close
 * together are the operators' (a provider fault, or a prompt pattern it charges for and then refuses): at
 * `count` of them within `windowMs`, across every server and every process (they are counted in the
 * database), the operators are told, once per incident (the notifier's rule: a new incident after six quiet
 * hours).
 */
export const CHARGED_FAILURES_ALERT = { count: 3, windowMs: 60 * 60_000 } as const;

/** The incident's key for the operators' notifier. */
export const CHARGED_FAILURES_KEY = "kling-charged-failures";

/** What the API says it charged for a failed task, when that is a charge at all (a whole number above 0). */
export function chargeOfFailure(consumedCredits: number | undefined): number | undefined {
  return consumedCredits !== undefined && Number.isSafeInteger(consumedCredits) && consumedCredits > 0
    ? consumedCredits
    : undefined;
}

/**
 * Log a failed job's charge, and tell the operators when such failures add up. The job is already failed
 * (its `error_params` carry `consumedCredits`), so it counts itself. Never throws: counting is not worth a job.
 */
export async function noteChargedFailure(s: JobServices, job: JobRow, charged: number): Promise<void> {
  s.logger.warn(
    { jobId: job.id, guildId: job.guildId, taskId: job.klingTaskId, charged },
    "the Kling API charged for a task that failed; the server got its credits back",
  );
  try {
    const since = new Date(s.now().getTime() - CHARGED_FAILURES_ALERT.windowMs);
    const consumed = sql`(${jobs.errorParams}->>'consumedCredits')`;
    const [row] = await s.db
      .select({
        failures: sql<string>`count(*)`,
        credits: sql<string | null>`sum(${consumed}::bigint)`,
      })
      .from(jobs)
      .where(
        and(
          eq(jobs.state, "failed"),
          eq(jobs.errorCode, "TASK_FAILED"),
          gt(jobs.finishedAt, since),
          sql`${consumed} is not null`,
        ),
      );
    const failures = Number(row?.failures ?? 0);
    if (failures < CHARGED_FAILURES_ALERT.count) return;
    const credits = Number(row?.credits ?? 0);
    s.alert({
      key: CHARGED_FAILURES_KEY,
      text:
        `${failures} video tasks failed within the last hour although the Kling API charged for them ` +
        `(${credits} credits in all; the latest: job #${job.id}, task ${job.klingTaskId ?? "?"}). The servers got ` +
        "their credits back, so the API account paid. Check the tasks in the provider's dashboard and ask the " +
        "provider about the charges if it goes on.",
    });
  } catch (err) {
    s.logger.warn({ err, jobId: job.id }, "could not count the failed tasks the API charged for");
  }
}
