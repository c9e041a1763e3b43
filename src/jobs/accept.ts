import { and, eq, sql } from "drizzle-orm";
import { type Database, queryRows } from "../db/database.js";
import { jobs, memberFreezes } from "../db/schema.js";
import { costOfRequest } from "../kling/pricing.js";
import { holdForNewJob, lockGuildForJob } from "../ledger/index.js";
import { checkContent, checkPlace, type Refusal, type RequestFacts } from "../moderation/rules.js";
import { readSettings } from "../moderation/settings.js";
import { type MemberLoad, memberLoadQuery, readMemberLoad } from "../moderation/standing.js";
import type { VideoRequest } from "../video/validate.js";
import { findJobByInteraction, type JobRow } from "./repository.js";
import type { StoredRequestInput } from "./request.js";
import type { JobServices } from "./services.js";

/**
 * The only thing a command does with a video request: check the server's rules and hold the estimated cost,
 * in one transaction that also stores the job; answer the member; then hand the job to the pollers. Only a
 * poller sends a job to the API.
 *
 * A stored job becomes due only when it is handed over, so that no poller can fail or advance it before the
 * member's "queued" answer is written (a later edit would otherwise be overwritten by it). If the process
 * dies in between, the job falls due by itself after `HANDOVER_MS`.
 */
const HANDOVER_MS = 5_000;
/** How long a job waits for a manager's decision before its credits go back. */
export const APPROVAL_WAIT_MS = 24 * 3_600_000;

export interface AcceptInput {
  interactionId: string;
  guildId: string;
  channelId: string;
  userId: string;
  locale: string;
  applicationId: string;
  /** Null when the job's message is a channel post of its own (edited through the channel only). */
  interactionToken: string | null;
  tokenExpiresAt: Date;
  request: VideoRequest;
  delivery: StoredRequestInput["delivery"];
  /** Where and by whom: for the server's channel and role rules. */
  place: Pick<RequestFacts, "parentChannelId" | "memberRoleIds">;
}

export type AcceptResult =
  | { kind: "accepted"; job: JobRow; balance: number }
  | { kind: "duplicate"; job: JobRow }
  | { kind: "refused"; refusal: Refusal }
  | { kind: "insufficient"; cost: number; balance: number };

/** What `checkVideoRequest` finds: the request would be accepted now, or why not. */
export type CheckResult = Exclude<AcceptResult, { kind: "accepted" }> | { kind: "acceptable" };

class Refused extends Error {
  readonly result: AcceptResult | CheckResult;
  constructor(result: AcceptResult | CheckResult) {
    super("refused");
    this.result = result;
  }
}

/**
 * Check the rules, store the job and hold its estimated cost: all of it or nothing. The guild's row is locked
 * first, so that simultaneous requests of one server are checked one after another and a cap cannot be
 * overrun by requests racing each other. The interaction id is the idempotency key: a redelivered
 * interaction finds its job instead.
 */
export async function acceptVideoRequest(s: JobServices, input: AcceptInput): Promise<AcceptResult> {
  return (await decideRequest(s, input, false)) as AcceptResult;
}

/**
 * Whether the request would be accepted now, by the same rules under the same lock, storing and holding
 * nothing: for a request that has work to do before it can be accepted (a frame to post), so that a refusal
 * leaves nothing behind. The accept that follows checks everything again.
 */
export async function checkVideoRequest(s: JobServices, input: AcceptInput): Promise<CheckResult> {
  return (await decideRequest(s, input, true)) as CheckResult;
}

async function decideRequest(
  s: JobServices,
  input: AcceptInput,
  checkOnly: boolean,
): Promise<AcceptResult | CheckResult> {
  const estimated = costOfRequest(input.request.generate);
  const now = s.now();
  const display = input.request.display;
  const facts: RequestFacts = {
    channelId: input.channelId,
    ...input.place,
    model: display.model,
    duration: display.duration,
    sound: display.sound,
    texts: [input.request.generate.prompt, input.request.generate.negativePrompt],
  };
  try {
    return await s.db.transaction(async (tx): Promise<AcceptResult> => {
      // Four statements, one after another. The checks must start after the lock is held: a statement's
      // snapshot is taken when it starts, so only then do they read what every request of this server decided
      // before this one. (Sent together, their order on the connection would rest on how many promise turns
      // each driver takes to hand its query over; one round trip is not worth that.)
      const guild = await lockGuildForJob(tx, input.guildId, s.settings.defaultGuildCredits);
      const checks = await readChecks(tx, input, now);
      // A redelivered interaction racing its first delivery sees the job the other stored.
      if (checks.earlierJobId !== null) {
        const earlier = await findJobByInteraction(tx, input.interactionId);
        if (earlier) throw new Refused({ kind: "duplicate", job: earlier });
      }
      const settings = readSettings(guild.settings);
      const refuse = (refusal: Refusal | undefined) => {
        if (refusal) throw new Refused({ kind: "refused", refusal });
      };
      refuse(checkPlace(settings, facts));
      if (checks.frozen) refuse({ rule: "frozen", reason: checks.frozenReason });
      refuse(checkContent(settings, facts));
      const { mine, serverInFlight, spentToday: spent } = checks.load;
      if (mine >= settings.memberJobs) refuse({ rule: "member-jobs", limit: settings.memberJobs });
      if (serverInFlight >= settings.serverJobs) refuse({ rule: "server-jobs", limit: settings.serverJobs });
      if (settings.dailyCap > 0 && spent + estimated > settings.dailyCap) {
        refuse({ rule: "daily-cap", cap: settings.dailyCap, spent, cost: estimated });
      }
      // The balance was read under the lock: nothing can take from it before this transaction ends.
      if (guild.balance < estimated) {
        throw new Refused({ kind: "insufficient", cost: estimated, balance: guild.balance });
      }
      // Every answer but "accepted" rolls back, so a refusal or a check takes no job number.
      if (checkOnly) throw new Refused({ kind: "acceptable" });
      const needsApproval = settings.approvalAbove > 0 && estimated > settings.approvalAbove;
      const [job] = await tx
        .insert(jobs)
        .values({
          number: guild.number,
          interactionId: input.interactionId,
          guildId: input.guildId,
          channelId: input.channelId,
          userId: input.userId,
          locale: input.locale,
          request: { ...input.request, delivery: input.delivery } satisfies StoredRequestInput,
          taskType: input.request.generate.type,
          estimatedCost: estimated,
          state: "pending",
          needsApproval,
          // Waiting for a manager: due when the wait runs out (then the poller returns the credits).
          nextPollAt: new Date(now.getTime() + (needsApproval ? APPROVAL_WAIT_MS : HANDOVER_MS)),
          applicationId: input.applicationId,
          interactionToken: input.interactionToken,
          tokenExpiresAt: input.tokenExpiresAt,
          createdAt: now,
        })
        .returning();
      const balance = await holdForNewJob(tx, {
        guildId: input.guildId,
        userId: input.userId,
        jobId: job!.id,
        amount: estimated,
      });
      return { kind: "accepted", job: job!, balance };
    });
  } catch (err) {
    if (err instanceof Refused) return err.result;
    throw err;
  }
}

interface Checks {
  earlierJobId: number | null;
  frozen: boolean;
  frozenReason: string | null;
  load: MemberLoad;
}

/** Whether this interaction already made a job, whether the member is frozen, and their load: one statement. */
async function readChecks(tx: Database, input: AcceptInput, now: Date): Promise<Checks> {
  const freeze = sql`from ${memberFreezes} where ${memberFreezes.guildId} = ${input.guildId} and ${memberFreezes.userId} = ${input.userId}`;
  const [row] = await queryRows<{
    earlier: unknown;
    frozen: boolean;
    frozen_reason: string | null;
    mine: unknown;
    in_flight: unknown;
    spent: unknown;
  }>(
    tx,
    sql`select
          (select ${jobs.id} from ${jobs} where ${jobs.interactionId} = ${input.interactionId} limit 1) as earlier,
          exists (select 1 ${freeze}) as frozen,
          (select ${memberFreezes.reason} ${freeze}) as frozen_reason,
          load.*
        from (${memberLoadQuery(input.guildId, input.userId, now)}) as load`,
  );
  return {
    earlierJobId: row?.earlier === null || row?.earlier === undefined ? null : Number(row.earlier),
    frozen: Boolean(row?.frozen),
    frozenReason: row?.frozen_reason ?? null,
    load: readMemberLoad(row),
  };
}

/**
 * Hand an accepted job to the pollers: due now (unless it waits for a manager), with the message that shows
 * it (to edit it through the channel after the token expires), and every poller told (this process's at
 * once, others' through Postgres).
 */
export async function handOverJob(
  s: JobServices,
  job: JobRow,
  replyMessageId: string | undefined,
): Promise<void> {
  await s.db
    .update(jobs)
    .set({
      nextPollAt: sql`case when ${jobs.needsApproval} then ${jobs.nextPollAt} else ${s.now().toISOString()}::timestamptz end`,
      ...(replyMessageId ? { replyMessageId: sql`coalesce(${jobs.replyMessageId}, ${replyMessageId})` } : {}),
    })
    .where(and(eq(jobs.id, job.id), eq(jobs.guildId, job.guildId), eq(jobs.state, "pending")));
  if (!job.needsApproval) await s.announce();
}
