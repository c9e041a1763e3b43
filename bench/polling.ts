/**
 * `npm run bench:polling`: how late finished videos are found, for a fixed status-call budget, under three
 * polling policies — a fixed interval tuned to spend the budget, today's backoff (×1.5 per check up to ×6 the
 * base interval), and the planned schedule of `src/jobs/schedule.ts` (its real code).
 *
 * A discrete-event simulation on a virtual clock, no waiting: `JOBS` jobs stay in flight (each one found is
 * replaced by a new one at once), their run times drawn from a lognormal spread per kind (task type and clip
 * length), the schedule's history drawn from the same spreads. Checks fall due when a policy says; one server
 * serves due checks in the order they fell due, at most R per second (as the poller and the rate limiter do),
 * so a policy that asks for more than R has its checks delayed. Prints status calls per second, the delay from
 * a task's end to its check that found it (p50, p95, mean), and N/(2R), the mean delay of fixed-interval
 * polling when run times are long against its interval.
 * Bench code, not product code: it may read process.env.
 */
import { nextCheckDelay, planChecks, planFromFinds, runTimeModel, shareStep } from "../src/jobs/schedule.js";
import { normalDraw as normal, seededRandom as random } from "../test/helpers/random.js";
import { quantile, sortedCopy } from "./support.js";

const JOBS = Number(process.env.BENCH_JOBS ?? 2_000);
const RATES = (process.env.BENCH_RATES ?? "5,20,50").split(",").map(Number);
const BASE_MS = 5_000;
const HORIZON_MS = 30 * 60_000;
const WARM_UP_S = 3_600;
const MEASURE_S = Number(process.env.BENCH_SECONDS ?? 4 * 3_600);
const HISTORY = 50;
/** Scales every kind's spread: 1 is the table below; 0.6 runs that vary less, 1.5 runs that vary more. */
const SPREAD = Number(process.env.BENCH_SPREAD ?? 1);
/** Also run the planned schedule on the seeded true run times alone, never learning from its own finds. */
const ORACLE = process.env.BENCH_ORACLE === "1";

/** Kinds of job: median run time and its spread (σ of the log), and their share of jobs. */
const KINDS = [
  { name: "std-text-to-video 5 s", medianS: 75, sigma: 0.25, share: 0.25 },
  { name: "std-text-to-video 10 s", medianS: 120, sigma: 0.25, share: 0.15 },
  { name: "pro-text-to-video 5 s", medianS: 100, sigma: 0.25, share: 0.2 },
  { name: "pro-image-to-video 10 s", medianS: 170, sigma: 0.3, share: 0.15 },
  { name: "o3-pro-text-to-video 5 s", medianS: 140, sigma: 0.25, share: 0.15 },
  { name: "o3-pro-text-to-video 10 s", medianS: 240, sigma: 0.3, share: 0.1 },
] as const;

function drawKind(rand: () => number): number {
  let u = rand();
  for (let i = 0; i < KINDS.length; i++) {
    u -= KINDS[i]!.share;
    if (u < 0) return i;
  }
  return KINDS.length - 1;
}

function runTimeMs(kind: number, rand: () => number): number {
  const k = KINDS[kind]!;
  return k.medianS * 1000 * Math.exp(k.sigma * SPREAD * normal(rand));
}

interface Job {
  kind: number;
  submittedMs: number;
  runMs: number;
  checks: number;
}

/** A policy: the delay before a job's next check, given how long it has run and how often it was checked. */
interface Policy {
  delay(job: Job, elapsedMs: number, rand: () => number): number;
  /** A job was found finished `elapsedMs` after its submit, at `now`. */
  found?(job: Job, elapsedMs: number, now: number): void;
}

/** Min-heap of due checks, by due time. */
class DueQueue {
  private readonly at: number[] = [];
  private readonly jobs: Job[] = [];
  get size(): number {
    return this.at.length;
  }
  peek(): number {
    return this.at[0]!;
  }
  push(due: number, job: Job): void {
    let i = this.at.length;
    this.at.push(due);
    this.jobs.push(job);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.at[p]! <= due) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): Job {
    const top = this.jobs[0]!;
    const lastAt = this.at.pop()!;
    const lastJob = this.jobs.pop()!;
    if (this.at.length > 0) {
      this.at[0] = lastAt;
      this.jobs[0] = lastJob;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.at.length && this.at[l]! < this.at[m]!) m = l;
        if (r < this.at.length && this.at[r]! < this.at[m]!) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
  private swap(i: number, j: number): void {
    [this.at[i], this.at[j]] = [this.at[j]!, this.at[i]!];
    [this.jobs[i], this.jobs[j]] = [this.jobs[j]!, this.jobs[i]!];
  }
}

interface Result {
  callsPerSec: number;
  /** The most status calls made within one second of the clock. */
  busiestSecond: number;
  delaysS: number[];
}

function simulate(policy: Policy, ratePerSec: number): Result {
  const rand = random(7);
  const jitter = random(11);
  const queue = new DueQueue();
  const start = (now: number, submittedMs = now) => {
    const kind = drawKind(rand);
    const job = { kind, submittedMs, runMs: runTimeMs(kind, rand), checks: 0 };
    queue.push(submittedMs + policy.delay(job, 0, jitter), job);
  };
  // The first jobs were submitted over the last five minutes; the warm-up hour forgets the start anyway.
  for (let i = 0; i < JOBS; i++) start(0, -rand() * 300_000);
  const spacing = 1000 / ratePerSec;
  const measureFrom = WARM_UP_S * 1000;
  const end = measureFrom + MEASURE_S * 1000;
  const delays: number[] = [];
  let calls = 0;
  let served = Number.NEGATIVE_INFINITY;
  let second = Number.NaN;
  let inSecond = 0;
  let busiestSecond = 0;
  while (queue.size > 0) {
    // The next due check, but never sooner than the budget allows after the last one.
    const now = Math.max(served + spacing, queue.peek());
    if (now >= end) break;
    served = now;
    const job = queue.pop();
    job.checks += 1;
    if (now >= measureFrom) {
      calls += 1;
      if (Math.floor(now / 1000) !== second) {
        second = Math.floor(now / 1000);
        inSecond = 0;
      }
      inSecond += 1;
      busiestSecond = Math.max(busiestSecond, inSecond);
    }
    const elapsed = now - job.submittedMs;
    if (elapsed >= job.runMs) {
      if (now >= measureFrom) delays.push((elapsed - job.runMs) / 1000);
      policy.found?.(job, elapsed, now);
      // Found: its place in flight goes to a new job at once.
      start(now);
    } else {
      queue.push(now + policy.delay(job, elapsed, jitter), job);
    }
  }
  return { callsPerSec: calls / MEASURE_S, busiestSecond, delaysS: delays };
}

const fixedInterval = (intervalMs: number): Policy => ({ delay: () => intervalMs });

/** Today's rule in src/jobs/poll.ts and submit.ts: one interval, then ×1.5 per check up to ×6, ±20 % jitter. */
const todaysBackoff: Policy = {
  delay(job, _elapsed, rand) {
    if (job.checks === 0) return BASE_MS;
    const attempts = Math.min(job.checks - 1, 8);
    return Math.round(Math.min(BASE_MS * 1.5 ** attempts, BASE_MS * 6) * (0.8 + rand() * 0.4));
  },
};

/**
 * The planned schedule as src/jobs/pacing.ts runs it: an equal share of the budget per job in flight, plans
 * made from the last finds of each kind and made again a minute later. The history starts as true run times;
 * with `learn`, every find then enters it, as the bot records them (the time the check saw the task done).
 * Without, the plans stay those of the true run times: what planning could do if the bot knew when tasks end.
 */
function planned(ratePerSec: number, learn: boolean): Policy {
  const options = { baseIntervalMs: BASE_MS, horizonMs: HORIZON_MS };
  const seed = random(3);
  const finds = KINDS.map((_, kind) => Array.from({ length: HISTORY }, () => runTimeMs(kind, seed)));
  const share = shareStep(ratePerSec / JOBS);
  const make = () =>
    finds.map((history) => {
      const plan = learn
        ? planFromFinds(history, share, options)
        : planChecks(runTimeModel(history)!, share, options);
      if (!plan) throw new Error("a kind without history");
      return plan;
    });
  let plans = make();
  let madeAt = 0;
  return {
    delay: (job, elapsed) => nextCheckDelay(plans[job.kind]!, elapsed),
    found(job, elapsed, now) {
      if (!learn) return;
      const history = finds[job.kind]!;
      history.push(elapsed);
      history.shift();
      if (now - madeAt >= 60_000) {
        plans = make();
        madeAt = now;
      }
    },
  };
}

const p95 = (r: Result) => quantile(sortedCopy(r.delaysS), 0.95);

const COLUMNS = ["calls/s", "max/s", "calls/job", "p50", "p95", "mean", "found"];

function row(label: string, result: Result): string {
  const s = sortedCopy(result.delaysS);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const cells = [
    result.callsPerSec.toFixed(1),
    String(result.busiestSecond),
    ((result.callsPerSec * MEASURE_S) / s.length).toFixed(2),
    quantile(s, 0.5).toFixed(1),
    quantile(s, 0.95).toFixed(1),
    mean.toFixed(1),
    String(s.length),
  ];
  return label.padEnd(32) + cells.map((c) => c.padStart(10)).join("");
}

console.log(
  `${JOBS} jobs in flight (a job found is replaced at once); ${MEASURE_S / 3600} h of virtual time measured ` +
    `after ${WARM_UP_S / 3600} h of warm-up; base interval ${BASE_MS / 1000} s; history: ${HISTORY} run times per kind`,
);
for (const k of KINDS) {
  console.log(
    `  ${k.name.padEnd(28)} ${String(k.share * 100).padStart(3)} % of jobs, median ${k.medianS} s, σ(log) ${(k.sigma * SPREAD).toFixed(2)}`,
  );
}
console.log("delays (task ended → the check that found it) in seconds");
for (const rate of RATES) {
  console.log(`\nR = ${rate} status calls/s; N/(2R) = ${(JOBS / (2 * rate)).toFixed(1)} s`);
  console.log("policy".padEnd(32) + COLUMNS.map((c) => c.padStart(10)).join(""));
  const fixed = simulate(fixedInterval((JOBS / rate) * 1000), rate);
  console.log(row(`fixed interval ${(JOBS / rate).toFixed(0)} s`, fixed));
  const today = simulate(todaysBackoff, rate);
  console.log(row("today's backoff", today));
  const plan = simulate(planned(rate, true), rate);
  console.log(row("planned (src/jobs/schedule.ts)", plan));
  if (ORACLE) console.log(row("planned, knowing true run times", simulate(planned(rate, false), rate)));
  const mean = (r: Result) => r.delaysS.reduce((a, b) => a + b, 0) / r.delaysS.length;
  console.log(
    `planned ÷ today's backoff: calls/s ${(plan.callsPerSec / today.callsPerSec).toFixed(2)}, ` +
      `p95 ${(p95(plan) / p95(today)).toFixed(2)}, mean ${(mean(plan) / mean(today)).toFixed(2)}`,
  );
  const ratio = p95(plan) / p95(fixed);
  console.log(
    `planned p95 ÷ fixed p95 = ${ratio.toFixed(2)} (target ≤ 0.50: ${ratio <= 0.5 ? "met" : "not met"})`,
  );
}
