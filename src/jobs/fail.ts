import { and, eq } from "drizzle-orm";
import { jobs } from "../db/schema.js";
import { releaseCredits } from "../ledger/index.js";
import type { Failure } from "./port.js";
import { type JobRow, transitionJob } from "./repository.js";
import type { JobServices } from "./services.js";

/** Keep the message the adapter says now shows the job, to edit it through the channel later. */
async function rememberMessage(s: JobServices, job: JobRow, messageId: string | undefined): Promise<void> {
  if (!messageId || job.replyMessageId === messageId) return;
  job.replyMessageId = messageId;
  await s.db
    .update(jobs)
    .set({ replyMessageId: messageId })
    .where(and(eq(jobs.id, job.id), eq(jobs.guildId, job.guildId)));
}

/** Tell the adapter, and never let a reply that cannot be shown undo the job's accounting. */
export async function tell(
  s: JobServices,
  job: JobRow,
  event: (port: JobServices["port"]) => Promise<{ messageId?: string | undefined }>,
): Promise<void> {
  try {
    const posted = await event(s.port);
    await rememberMessage(s, job, posted.messageId);
  } catch (err) {
    s.logger.warn({ err, jobId: job.id }, "could not update the reply");
  }
}

/** End a job without a video: the reply says so, then the refund and the final state commit together. */
export async function failJob(s: JobServices, job: JobRow, failure: Failure): Promise<JobRow | undefined> {
  // The reply first, then the refund and the final state together: if the process dies in between, the job
  // is still active and the next poller does both again (the reply is an edit, so it shows once). The other
  // order could leave a refunded job whose reply says "queued" forever.
  await tell(s, job, (port) => port.failed(job, failure));
  const failed = await s.db.transaction(async (tx) => {
    // Only from the state the caller saw, and only while this process holds the job.
    const row = await transitionJob(
      tx,
      job.id,
      "failed",
      {
        errorCode: failure.code,
        errorParams: failure.params,
        finishedAt: s.now(),
        leaseOwner: null,
        leaseExpiresAt: null,
        interactionToken: null,
      },
      { from: [job.state], owner: s.owner },
    );
    if (!row) return undefined;
    await releaseCredits(tx, { guildId: job.guildId, jobId: job.id, reason: failure.code });
    return row;
  });
  if (failed) s.logger.info({ jobId: job.id, code: failure.code }, "job failed; credits released");
  return failed;
}
