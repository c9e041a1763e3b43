import { and, eq, sql } from "drizzle-orm";
import { jobs } from "../db/schema.js";
import { costOfRequest } from "../kling/pricing.js";
import { ensureGuild, reserveCredits } from "../ledger/ledger.js";
import type { VideoRequest } from "../video/validate.js";
import { findJobByInteraction, type JobRow } from "./repository.js";
import type { StoredRequestInput } from "./request.js";
import type { JobServices } from "./services.js";

/**
 * The only thing a command does with a video request: store the job and hold its estimated cost, in one
 * transaction; answer the member; then hand the job to the pollers. Only a poller sends a job to the API.
 *
 * A stored job becomes due only when it is handed over, so that no poller can fail or advance it before the
 * member's "queued" answer is written (a later edit would otherwise be overwritten by it). If the process
 * dies in between, the job falls due by itself after `HANDOVER_MS`.
 */
const HANDOVER_MS = 5_000;

export interface AcceptInput {
  interactionId: string;
  guildId: string;
  channelId: string;
  userId: string;
  locale: string;
  applicationId: string;
  interactionToken: string;
  tokenExpiresAt: Date;
  request: VideoRequest;
  delivery: StoredRequestInput["delivery"];
}

export type AcceptResult =
  | { kind: "accepted"; job: JobRow; balance: number }
  | { kind: "duplicate"; job: JobRow }
  | { kind: "insufficient"; cost: number; balance: number };

class Refused extends Error {
  readonly balance: number;
  constructor(balance: number) {
    super("insufficient credits");
    this.balance = balance;
  }
}

/**
 * Store the job and hold its estimated cost: either both happen or neither. The interaction id is the
 * idempotency key, so a redelivered interaction finds its job instead.
 */
export async function acceptVideoRequest(s: JobServices, input: AcceptInput): Promise<AcceptResult> {
  const estimated = costOfRequest(input.request.generate);
  await ensureGuild(s.db, input.guildId, s.settings.defaultGuildCredits);
  const now = s.now();
  try {
    const result = await s.db.transaction(async (tx): Promise<AcceptResult> => {
      const [job] = await tx
        .insert(jobs)
        .values({
          interactionId: input.interactionId,
          guildId: input.guildId,
          channelId: input.channelId,
          userId: input.userId,
          locale: input.locale,
          request: { ...input.request, delivery: input.delivery } satisfies StoredRequestInput,
          taskType: input.request.generate.type,
          estimatedCost: estimated,
          state: "pending",
          nextPollAt: new Date(now.getTime() + HANDOVER_MS),
          applicationId: input.applicationId,
          interactionToken: input.interactionToken,
          tokenExpiresAt: input.tokenExpiresAt,
          createdAt: now,
        })
        .onConflictDoNothing({ target: jobs.interactionId })
        .returning();
      if (!job) return { kind: "duplicate", job: (await findJobByInteraction(tx, input.interactionId))! };
      const held = await reserveCredits(tx, {
        guildId: input.guildId,
        userId: input.userId,
        jobId: job.id,
        amount: estimated,
      });
      if (!held.ok) throw new Refused(held.balance);
      return { kind: "accepted", job, balance: held.balance };
    });
    return result;
  } catch (err) {
    if (err instanceof Refused) return { kind: "insufficient", cost: estimated, balance: err.balance };
    throw err;
  }
}

/**
 * Hand an accepted job to the pollers: due now, with the message that shows it (to edit it through the
 * channel after the token expires), and every poller told (this process's at once, others' through Postgres).
 */
export async function handOverJob(
  s: JobServices,
  job: JobRow,
  replyMessageId: string | undefined,
): Promise<void> {
  await s.db
    .update(jobs)
    .set({
      nextPollAt: s.now(),
      ...(replyMessageId ? { replyMessageId: sql`coalesce(${jobs.replyMessageId}, ${replyMessageId})` } : {}),
    })
    .where(and(eq(jobs.id, job.id), eq(jobs.guildId, job.guildId), eq(jobs.state, "pending")));
  await s.announce();
}
