import { renewLease } from "./repository.js";
import type { JobServices } from "./services.js";

/**
 * Run one step of a job while keeping its lease alive, so a slow API call or download is not mistaken for
 * a dead process and taken over by another poller.
 */
export async function withLease<T>(s: JobServices, jobId: number, step: () => Promise<T>): Promise<T> {
  const every = Math.max(100, Math.floor(s.settings.leaseMs / 3));
  const timer = setInterval(() => {
    renewLease(s.db, jobId, s.owner, new Date(s.now().getTime() + s.settings.leaseMs)).catch((err) =>
      s.logger.warn({ err, jobId }, "could not renew a job's lease"),
    );
  }, every);
  try {
    return await step();
  } finally {
    clearInterval(timer);
  }
}
