import { type JobRow, recentRunTimesMs, runningJobLoad } from "./repository.js";
import { storedRequest } from "./request.js";
import { type CheckPlan, MIN_HISTORY, nextCheckDelay, planFromFinds, shareStep } from "./schedule.js";
import { backoff, type JobServices } from "./services.js";

/**
 * When a running job's task is checked next. A kind of job (task type and clip length) with enough history
 * (when its latest completed jobs were found finished) follows the plan of jobs/schedule.ts for its share of
 * the status-call budget; a kind without history, or a plan that cannot be made (the database does not
 * answer), falls back to today's rule: the first check one poll interval after submit, then ×1.5 per check up
 * to ×6.
 */

/** How long recent run times of a kind are trusted before they are read again. */
const HISTORY_TTL_MS = 60_000;
/** How long the count of jobs in flight is trusted: about one poller pass. */
const LOAD_TTL_MS = 1_000;
/** Submits counted over this window give the rate they take from the budget first. */
const SUBMIT_WINDOW_MS = 60_000;
/** Share of the rate limit always left for submits, and always left for status checks. */
const RESERVE = 0.1;

interface Kind {
  at: number;
  /** Submit → found finished of its latest completed jobs. */
  finds: number[];
  /** Per share of the budget; undefined: too little history. */
  plans: Map<number, CheckPlan | undefined>;
}

interface Pacing {
  kinds: Map<string, Kind>;
  load?: { at: number; running: number; submitsPerSec: number };
}

/** One cache per process (per services object): what the database said, and the plans made from it. */
const pacings = new WeakMap<JobServices, Pacing>();

/** When a job whose task was just created is first checked. */
export async function firstCheckAt(s: JobServices, job: JobRow, now: Date): Promise<Date> {
  const plan = await planFor(s, job, now);
  return notPastDeadline(
    s,
    job,
    new Date(now.getTime() + (plan ? nextCheckDelay(plan, 0) : s.settings.pollIntervalMs)),
  );
}

/** When a running job, checked at `now` and still running, is checked next. */
export async function nextCheckAt(s: JobServices, job: JobRow, now: Date): Promise<Date> {
  const plan = await planFor(s, job, now);
  const base = s.settings.pollIntervalMs;
  const elapsedMs = now.getTime() - (job.submittedAt ?? job.createdAt).getTime();
  // A plan spaces checks by what it learnt, but never wider than the fixed rule's widest gap (6 × the base).
  const delay = plan
    ? Math.min(nextCheckDelay(plan, elapsedMs), base * 6)
    : backoff(base, Math.min(job.attempts, 8), base * 6);
  return notPastDeadline(s, job, new Date(now.getTime() + delay));
}

/** A job that runs past `JOB_TIMEOUT_MS` is ended at its first check after that: never planned later. */
function notPastDeadline(s: JobServices, job: JobRow, at: Date): Date {
  const deadline = (job.submittedAt ?? job.createdAt).getTime() + s.settings.jobTimeoutMs;
  return at.getTime() > deadline ? new Date(Math.max(deadline, s.now().getTime())) : at;
}

async function planFor(s: JobServices, job: JobRow, now: Date): Promise<CheckPlan | undefined> {
  try {
    const kind = await kindOf(s, job, now.getTime());
    if (kind.finds.length < MIN_HISTORY) return undefined;
    const share = shareStep(await shareOfBudget(s, now.getTime()));
    if (!kind.plans.has(share)) {
      const options = { baseIntervalMs: s.settings.pollIntervalMs, horizonMs: s.settings.jobTimeoutMs };
      kind.plans.set(share, planFromFinds(kind.finds, share, options));
    }
    return kind.plans.get(share);
  } catch (err) {
    s.logger.warn({ err, jobId: job.id }, "could not plan the next status check; using the fixed rule");
    return undefined;
  }
}

function pacingOf(s: JobServices): Pacing {
  let pacing = pacings.get(s);
  if (!pacing) {
    pacing = { kinds: new Map() };
    pacings.set(s, pacing);
  }
  return pacing;
}

async function kindOf(s: JobServices, job: JobRow, now: number): Promise<Kind> {
  const duration = storedRequest(job).generate.duration;
  const key = `${job.taskType}:${duration ?? "auto"}`;
  const kinds = pacingOf(s).kinds;
  const hit = kinds.get(key);
  if (hit && now - hit.at < HISTORY_TTL_MS && now >= hit.at) return hit;
  const finds = await recentRunTimesMs(s.db, job.taskType, duration);
  // The same history plans the same checks: keep the plans made from it (planning is CPU on the event loop).
  const same = hit && finds.length === hit.finds.length && finds.every((f, i) => f === hit.finds[i]);
  const kind = { at: now, finds, plans: same ? hit.plans : new Map() };
  kinds.set(key, kind);
  return kind;
}

/**
 * A running job's share of the status calls per second: the rate limit, less what submits took lately (at
 * least a reserve), split evenly among the jobs running. Every process plans with the whole count, so all of
 * them together stay within one rate limit.
 */
async function shareOfBudget(s: JobServices, now: number): Promise<number> {
  const pacing = pacingOf(s);
  let load = pacing.load;
  if (!load || now - load.at >= LOAD_TTL_MS || now < load.at) {
    const counted = await runningJobLoad(s.db, new Date(now - SUBMIT_WINDOW_MS));
    load = {
      at: now,
      running: counted.running,
      submitsPerSec: (counted.submittedSince * 1000) / SUBMIT_WINDOW_MS,
    };
    pacing.load = load;
  }
  const limit = s.settings.klingRatePerSecond;
  const forChecks = Math.max(limit - Math.max(load.submitsPerSec, limit * RESERVE), limit * RESERVE);
  return forChecks / Math.max(load.running, 1);
}
