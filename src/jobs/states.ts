/**
 * The life of a job, declared once. Every transition in SQL is a compare-and-set
 * (`update … where id = $1 and state = any($allowedFrom)`), so a repeated or late event is harmless.
 *
 *   pending ──► submitting ──► running ──► delivering ──► completed
 *      │            │             │             │
 *      └────────────┴─────────────┴─────────────┴──────► failed
 *
 * - pending:    row stored and credits held; nothing sent to the API yet.
 * - submitting: the generate call is (or may be) in flight. A job found here after a crash is
 *               resolved by the recovery rule in the poller (see README, "Restarts").
 * - running:    the API accepted the task; the poller checks its status.
 * - delivering: the task succeeded (its charge is known, its credits still held); the video is being
 *               fetched and posted.
 * - completed:  the reply shows the video (or a link to it); the credits are captured at what the API charged.
 * - failed:     ended without a video (also: a finished video that could not be fetched); credits released.
 */
export const JOB_STATES = ["pending", "submitting", "running", "delivering", "completed", "failed"] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = Object.freeze({
  pending: ["submitting", "failed"],
  submitting: ["running", "failed"],
  running: ["running", "delivering", "failed"],
  delivering: ["completed", "failed"],
  completed: [],
  failed: [],
});

export const ACTIVE_STATES: readonly JobState[] = JOB_STATES.filter((s) => TRANSITIONS[s].length > 0);

/** The states a job may be in for a move to `to` to be allowed: the `from` side of a compare-and-set. */
export function statesLeadingTo(to: JobState): JobState[] {
  return JOB_STATES.filter((s) => TRANSITIONS[s].includes(to));
}
