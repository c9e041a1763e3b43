/**
 * When to check a running job's task: pure planning, no I/O. `jobs/pacing.ts` feeds it what the database knows
 * (when recent jobs of the job's kind were found finished, jobs in flight, the status-call budget);
 * `bench/polling.ts` measures it.
 *
 * Every check is one status call out of a budget shared by all jobs in flight, and a finished video waits until
 * the next check. From how long recent jobs of the same kind ran, a plan of check times is chosen to minimise
 * the expected wait (from a job's end to the check that finds it) for a given expected number of checks: few
 * while the job is surely still running, dense around and after its likely end (`planChecks`). The plan spends
 * at most the job's share of the budget per second it is in flight, and never more than today's rule would;
 * with many jobs in flight, those shares add up to the budget. What the database knows is when jobs were
 * found, not when they ended: `planFromFinds` reads the finds as spans between two checks.
 */

/** The most time between two checks of a job (while the budget can afford it: see `maxGapFor`). */
export const MAX_GAP_MS = 60_000;
/** Fewer finished jobs of a kind than this: no history, the job is polled by today's rule. */
export const MIN_HISTORY = 5;
/**
 * When the budget cannot afford a check of every job once a minute, the longest gap grows to this many
 * times the fair interval (jobs ÷ calls per second), leaving room to concentrate checks where they count.
 */
const GAP_HEADROOM = 3;
/** Share of a run-time model given to a broad guess around the median: history can be wrong. */
const BROAD_WEIGHT = 0.03;
const BROAD_SIGMA = 1;
const MIN_BANDWIDTH = 0.02;
const MIN_FIT_SIGMA = 0.05;
/** Beyond this chance of still running, the plan stops and checks every longest gap. */
const TAIL = 1e-5;
const GRID = 1024;
const SHARE_STEP = 1.05;
/** Rounds of placing finds within the plan's spans (see `planFromFinds`), and points per find. */
const PLACING_ROUNDS = 2;
const PLACED_POINTS = 3;
/** Checks after which a job still runs with less chance than this are not polished. */
const POLISH = 1e-3;

export interface ScheduleOptions {
  /** Today's polling interval: the first gap of the fallback rule, and a fifth of it the shortest gap. */
  baseIntervalMs: number;
  /** The job's time limit: nothing is planned past it. */
  horizonMs: number;
}

/** What recent run times say about a kind of job: the chance that one ends within `t` of its submit. */
export interface RunTimeModel {
  cdf(tMs: number): number;
  /** ∫₀ᵗ cdf(u) du, in ms. */
  integral(tMs: number): number;
  readonly medianMs: number;
  readonly samples: number;
}

/**
 * A smoothed distribution of run times: a kernel estimate on the log scale (run times are right-skewed, and a
 * spread in proportion fits them), mixed with a small broad part so that no time is ever ruled out.
 * Undefined with fewer than `MIN_HISTORY` usable samples.
 */
export function runTimeModel(samplesMs: readonly number[]): RunTimeModel | undefined {
  const logs = samplesMs
    .filter((t) => Number.isFinite(t) && t > 0)
    .map(Math.log)
    .sort((a, b) => a - b);
  const n = logs.length;
  if (n < MIN_HISTORY) return undefined;
  const mean = logs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(logs.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(1, n - 1));
  const iqr = (sortedQuantile(logs, 0.75) - sortedQuantile(logs, 0.25)) / 1.349;
  const spread = iqr > 0 ? Math.min(sd, iqr) : sd;
  // Silverman's rule of thumb.
  const bandwidth = Math.max(0.9 * spread * n ** -0.2, MIN_BANDWIDTH);
  const median = sortedQuantile(logs, 0.5);
  const broad = Math.max(BROAD_SIGMA, 3 * sd);
  // Read in rising order of x (the table below): samples more than 8 bandwidths below x count whole, those
  // more than 8 above not at all.
  let below = 0;
  let near = 0;
  const exact = (x: number) => {
    while (below < n && logs[below]! < x - 8 * bandwidth) below++;
    while (near < n && logs[near]! <= x + 8 * bandwidth) near++;
    let sum = below;
    for (let i = below; i < near; i++) sum += normalCdf((x - logs[i]!) / bandwidth);
    return (1 - BROAD_WEIGHT) * (sum / n) + BROAD_WEIGHT * normalCdf((x - median) / broad);
  };
  // Tabulated on the log scale: a plan reads the distribution tens of thousands of times.
  const lo = Math.min(logs[0]! - 6 * bandwidth, median - 5 * broad);
  const hi = Math.max(logs[n - 1]! + 6 * bandwidth, median + 5 * broad);
  const step = (hi - lo) / (GRID - 1);
  const table = Float64Array.from({ length: GRID }, (_, i) => exact(lo + i * step));
  // ∫ F(u) du with u = e^x: the trapezoid rule on the log grid (below the grid F is negligible).
  const integrals = new Float64Array(GRID);
  for (let i = 1; i < GRID; i++) {
    const u0 = Math.exp(lo + (i - 1) * step);
    const u1 = Math.exp(lo + i * step);
    integrals[i] = integrals[i - 1]! + ((table[i - 1]! + table[i]!) / 2) * (u1 - u0);
  }
  const top = Math.exp(lo + (GRID - 1) * step);
  const read = (values: Float64Array, tMs: number) => {
    const at = (Math.log(tMs) - lo) / step;
    if (at <= 0) return values[0]!;
    if (at >= GRID - 1) return values[GRID - 1]!;
    const i = Math.floor(at);
    return values[i]! + (values[i + 1]! - values[i]!) * (at - i);
  };
  return {
    medianMs: Math.exp(median),
    samples: n,
    cdf: (tMs) => (tMs > 0 ? read(table, tMs) : 0),
    integral: (tMs) =>
      tMs > top ? integrals[GRID - 1]! + (tMs - top) * table[GRID - 1]! : tMs > 0 ? read(integrals, tMs) : 0,
  };
}

/**
 * The plan for a kind from when its recent jobs were found finished (submit → the check that saw the task
 * done), or undefined without enough history. A job found at F ended between the check before F and F, not at
 * F: read as run times, finds would move each plan's checks later than the last, and the next finds later
 * again. So each find is placed within its span, as a lognormal fitted to all the spans says run times fall
 * there, and the plan is made again from the placed finds; the spans are those of the plan being made, a few
 * rounds, until the spans it assumes are its own.
 */
export function planFromFinds(
  foundMs: readonly number[],
  ratePerSec: number,
  options: ScheduleOptions,
): CheckPlan | undefined {
  const finds = runTimeModel(foundMs);
  if (!finds) return undefined;
  let model = finds;
  let plan = planChecks(model, ratePerSec, options);
  for (let round = 0; round < PLACING_ROUNDS; round++) {
    model = runTimeModel(placeInSpans(spansOf(foundMs, plan))) ?? model;
    plan = planChecks(model, ratePerSec, options);
  }
  // Where the spans cannot tell when jobs end (the budget pays about one check a job, and every job is found
  // at it), the fitted run times are a guess: a plan that would have found the jobs later than a fixed
  // interval, judged by the finds themselves, gives way to the fixed interval.
  const fixed = fixedIntervalPlan(model, ratePerSec, options);
  return expectedDelay(finds, plan) > expectedDelay(finds, fixed) ? fixed : plan;
}

/** A run time known only to lie after `after` (a check that saw the task running) and by `by` (its find). */
export interface Span {
  after: number;
  by: number;
}

/**
 * The span each find leaves under `plan`: from the planned check before the one it was found at (or the
 * submit) to the find. A check served late, behind others, was still due at its planned time: the find counts
 * as that check's, not as a later one's.
 */
export function spansOf(foundMs: readonly number[], plan: CheckPlan): Span[] {
  const slack = plan.minGapMs / 2;
  return foundMs
    .filter((found) => Number.isFinite(found) && found > 0)
    .map((found) => {
      // The check it was found at: the last planned one due by then, or one of the tail's after the plan.
      let due = 0;
      let after = 0;
      for (const t of plan.times) {
        if (t > found + slack) break;
        after = due;
        due = t;
      }
      const last = plan.times.at(-1) ?? 0;
      if (due === last && found > last + plan.tailGapMs - slack) {
        due = last + Math.floor((found + slack - last) / plan.tailGapMs) * plan.tailGapMs;
        after = due - plan.tailGapMs;
      }
      return { after, by: found };
    });
}

/**
 * Points standing for the spans: a lognormal is fitted to them all (maximum likelihood for run times known
 * to lie in spans), and each span gives points where that lognormal puts its run times within the span.
 */
export function placeInSpans(spans: readonly Span[]): number[] {
  const { mu, sigma } = fitLognormal(spans);
  const points: number[] = [];
  for (const { after, by } of spans) {
    const from = after > 0 ? normalCdf((Math.log(after) - mu) / sigma) : 0;
    const to = normalCdf((Math.log(by) - mu) / sigma);
    for (let i = 0; i < PLACED_POINTS; i++) {
      const share = (i + 0.5) / PLACED_POINTS;
      points.push(
        to - from > 1e-9
          ? Math.min(Math.max(Math.exp(mu + sigma * normalQuantile(from + (to - from) * share)), after), by)
          : after + (by - after) * share,
      );
    }
  }
  return points;
}

/** Maximum-likelihood lognormal (μ, σ of the log) for run times known to lie in spans; a pattern search. */
function fitLognormal(spans: readonly Span[]): { mu: number; sigma: number } {
  // A weak pull of σ towards 0.3 keeps the fit defined when the spans cannot tell (all of them from the submit
  // to one check, say); with spans that can, the data outweigh it.
  const logLikelihood = (mu: number, sigma: number) => {
    let sum = -0.5 * Math.log(sigma / 0.3) ** 2;
    for (const { after, by } of spans) {
      const from = after > 0 ? normalCdf((Math.log(after) - mu) / sigma) : 0;
      sum += Math.log(Math.max(normalCdf((Math.log(by) - mu) / sigma) - from, 1e-300));
    }
    return sum;
  };
  const logs = spans.map(({ after, by }) => Math.log(after > 0 ? (after + by) / 2 : by));
  let mu = logs.reduce((a, b) => a + b, 0) / logs.length;
  let logSigma = Math.log(0.3);
  let best = logLikelihood(mu, Math.exp(logSigma));
  let step = 0.25;
  while (step > 1e-4) {
    let moved = false;
    for (const [dm, ds] of [
      [step, 0],
      [-step, 0],
      [0, step],
      [0, -step],
    ] as const) {
      const s = Math.max(logSigma + ds, Math.log(MIN_FIT_SIGMA));
      const value = logLikelihood(mu + dm, Math.exp(s));
      if (value > best) {
        best = value;
        mu += dm;
        logSigma = s;
        moved = true;
      }
    }
    if (!moved) step /= 2;
  }
  return { mu, sigma: Math.exp(logSigma) };
}

/** A job's checks, as times since its submit. After the last one, a check every `tailGapMs`. */
export interface CheckPlan {
  readonly times: readonly number[];
  readonly tailGapMs: number;
  /** The most time the plan leaves between two checks. */
  readonly maxGapMs: number;
  readonly minGapMs: number;
}

/**
 * A job's share of the budget rounded down to a step of 5 %: plans are made and kept per step, and rounding
 * down never spends more than the share.
 */
export function shareStep(ratePerSec: number): number {
  return SHARE_STEP ** Math.floor(Math.log(ratePerSec) / Math.log(SHARE_STEP));
}

/** The shortest gap between two checks: a fifth of today's interval. */
export function minGapFor(options: ScheduleOptions): number {
  return options.baseIntervalMs / 5;
}

/**
 * The longest gap between two checks for a job's share of the budget (`ratePerSec`, status calls per second):
 * one minute, unless the share cannot pay for a check a minute with room to spare.
 */
export function maxGapFor(ratePerSec: number): number {
  if (!(ratePerSec > 0)) return Number.POSITIVE_INFINITY;
  return Math.max(MAX_GAP_MS, (GAP_HEADROOM * 1000) / ratePerSec);
}

/**
 * The checks for a job of a kind with history, spending at most `ratePerSec` status calls per second of the
 * job's time in flight on average (and never more than today's rule would on the same jobs).
 */
export function planChecks(model: RunTimeModel, ratePerSec: number, options: ScheduleOptions): CheckPlan {
  const minGap = minGapFor(options);
  const today = todaysPlan(options);
  const rate = Math.min(ratePerSec, expectedRate(model, today.times, today.tailGapMs));
  const maxGap = Math.max(maxGapFor(ratePerSec), minGap);
  const bounds: Bounds = { minGap, maxGap, horizon: options.horizonMs };
  const fits = (plan: CheckPlan) => expectedRate(model, plan.times, plan.tailGapMs) <= rate;
  let best = fixedIntervalPlan(model, ratePerSec, options);
  let bestDelay = expectedDelay(model, best);
  const consider = (plan: CheckPlan) => {
    if (!fits(plan)) return false;
    const delay = expectedDelay(model, plan);
    if (delay < bestDelay) {
      best = plan;
      bestDelay = delay;
    }
    return true;
  };
  consider(today);
  // λ, the price of a check in ms of delay: the first plans' λ that just fits, found cheaply, then the polished
  // plans around it (polishing changes their cost a little).
  let lo = Math.log(1e-2);
  let hi = Math.log(1e10);
  for (let i = 0; i < 24; i++) {
    const mid = (lo + hi) / 2;
    const plan = buildGreedy(model, Math.exp(mid), bounds);
    if (fits(plan)) hi = mid;
    else lo = mid;
  }
  let dense = hi - 1.5;
  let sparse = hi + 1.5;
  for (let i = 0; i < 6; i++) {
    const mid = (dense + sparse) / 2;
    if (consider(buildPlan(model, Math.exp(mid), bounds))) sparse = mid;
    else dense = mid;
  }
  return best;
}

/** Today's rule as a plan (without its jitter). */
export function todaysPlan(options: ScheduleOptions): CheckPlan {
  return {
    times: todaysChecks(options),
    tailGapMs: 6 * options.baseIntervalMs,
    maxGapMs: 6 * options.baseIntervalMs,
    minGapMs: options.baseIntervalMs,
  };
}

/**
 * Polling at a fixed interval that spends what `planChecks` may (the job's share, or today's rule's rate if
 * less): always within the budget, and the plan to beat.
 */
export function fixedIntervalPlan(
  model: RunTimeModel,
  ratePerSec: number,
  options: ScheduleOptions,
): CheckPlan {
  const today = todaysPlan(options);
  const rate = Math.min(ratePerSec, expectedRate(model, today.times, today.tailGapMs));
  const minGap = minGapFor(options);
  const maxGap = Math.max(maxGapFor(ratePerSec), minGap);
  const gap = Math.ceil(Math.min(Math.max(1000 / rate, minGap), maxGap));
  const times: number[] = [];
  for (let t = gap; ; t += gap) {
    times.push(t);
    if (t >= options.horizonMs || 1 - model.cdf(t) < TAIL) break;
  }
  return { times, tailGapMs: gap, maxGapMs: maxGap, minGapMs: minGap };
}

/** Expected delay from a job's end to the check that finds it, in ms, for run times following `model`. */
export function expectedDelay(model: RunTimeModel, plan: CheckPlan): number {
  let delay = 0;
  let before = 0;
  for (const t of plan.times) {
    delay += partialDelay(model, before, t);
    before = t;
  }
  const gap = Number.isFinite(plan.tailGapMs) ? plan.tailGapMs : 0;
  return delay + partialDelay(model, before, before + gap) + (1 - model.cdf(before + gap)) * gap;
}

/** What every plan keeps to: the shortest and the longest gap, and nothing past the job's time limit. */
interface Bounds {
  minGap: number;
  maxGap: number;
  horizon: number;
}

/**
 * The plan that minimises expected delay + λ × expected checks: the widest-gap rule gives a first plan, then
 * each check time in turn moves to where it costs least given its neighbours, until nothing moves.
 */
function buildPlan(model: RunTimeModel, lambda: number, bounds: Bounds): CheckPlan {
  const { minGap, maxGap, horizon } = bounds;
  const first = buildGreedy(model, lambda, bounds);
  const times = [...first.times];
  // Only the checks that a job still runs at with some chance are worth polishing; the far tail stays as is.
  const worth = times.findIndex((t) => 1 - model.cdf(t) < POLISH);
  const k = worth === -1 ? times.length : worth + 1;
  // Cost of the check at `t` between `prev` and `next`: the delay of jobs ending on either side, and λ times
  // the chance that a check after it is needed. Of the delays' sum, ∫ F(u) du from prev to next does not
  // depend on t: what is left reads the distribution once.
  const local = (prev: number, t: number, next: number) =>
    -(t - prev) * model.cdf(prev) - (next - t + lambda) * model.cdf(t);
  for (let sweep = 0; sweep < 8; sweep++) {
    let moved = 0;
    for (let i = 0; i < k; i++) {
      const prev = i === 0 ? 0 : times[i - 1]!;
      const last = i === times.length - 1;
      const next = last ? Number.NaN : times[i + 1]!;
      let lo = prev + minGap;
      let hi = Math.min(prev + maxGap, horizon);
      if (!last) {
        lo = Math.max(lo, next - maxGap);
        hi = Math.min(hi, next - minGap);
      }
      if (!(hi > lo)) continue;
      const cost = (t: number) => (last ? localLast(model, prev, t, maxGap, lambda) : local(prev, t, next));
      const here = times[i]!;
      let best = here;
      let bestCost = cost(here);
      const steps = 8;
      for (let j = 0; j <= steps; j++) {
        const t = lo + ((hi - lo) * j) / steps;
        const c = cost(t);
        if (c < bestCost) {
          best = t;
          bestCost = c;
        }
      }
      let a = Math.max(lo, best - (hi - lo) / steps);
      let b = Math.min(hi, best + (hi - lo) / steps);
      for (let j = 0; j < 12; j++) {
        const m1 = a + (b - a) / 3;
        const m2 = b - (b - a) / 3;
        if (cost(m1) <= cost(m2)) b = m2;
        else a = m1;
      }
      if (cost((a + b) / 2) < bestCost) best = (a + b) / 2;
      moved = Math.max(moved, Math.abs(best - here));
      times[i] = best;
    }
    if (moved < minGap / 10) break;
  }
  return { times: times.map(Math.round), tailGapMs: maxGap, maxGapMs: maxGap, minGapMs: minGap };
}

/** The last planned check: after it, one more a longest gap later (what is left by then is negligible). */
function localLast(model: RunTimeModel, prev: number, t: number, gap: number, lambda: number): number {
  return (
    partialDelay(model, prev, t) +
    partialDelay(model, t, t + gap) +
    (1 - model.cdf(t + gap)) * gap +
    lambda * (1 - model.cdf(t))
  );
}

/** E[(t − T); a < T ≤ t]: the delay of the jobs that end between two checks and are found at the second. */
function partialDelay(model: RunTimeModel, a: number, t: number): number {
  // ∫_a^t (t − u) f(u) du = ∫_a^t (F(u) − F(a)) du, by parts.
  return model.integral(t) - model.integral(a) - (t - a) * model.cdf(a);
}

function buildGreedy(model: RunTimeModel, lambda: number, bounds: Bounds): CheckPlan {
  const { minGap, maxGap, horizon } = bounds;
  const times: number[] = [];
  let t = 0;
  for (;;) {
    const alive = 1 - model.cdf(t);
    if (alive < TAIL || t >= horizon) break;
    // The widest gap whose expected delay (chance of ending in it × its length) is worth one check.
    const cost = (gap: number) => ((alive - (1 - model.cdf(t + gap))) / alive) * gap;
    let gap: number;
    if (cost(maxGap) <= 2 * lambda) gap = maxGap;
    else if (cost(minGap) >= 2 * lambda) gap = minGap;
    else {
      let a = minGap;
      let b = Math.min(maxGap, horizon);
      for (let i = 0; i < 20; i++) {
        const m = (a + b) / 2;
        if (cost(m) <= 2 * lambda) a = m;
        else b = m;
      }
      gap = a;
    }
    t += Number.isFinite(gap) ? gap : horizon;
    times.push(Math.round(t));
  }
  return { times, tailGapMs: maxGap, maxGapMs: maxGap, minGapMs: minGap };
}

/**
 * Status calls per second of a job's time in flight, on average over jobs whose run times follow `model`,
 * checked at `times` and then every `tailGapMs`. (Expected checks ÷ expected time from submit to being found:
 * with many jobs in flight, their sum is the calls per second the plan costs.)
 */
export function expectedRate(model: RunTimeModel, times: readonly number[], tailGapMs: number): number {
  let checks = 0;
  let inFlight = 0;
  let before = 0;
  let alivePrev = 1;
  for (const t of times) {
    const alive = 1 - model.cdf(t);
    checks += alivePrev;
    inFlight += t * (alivePrev - alive);
    alivePrev = alive;
    before = t;
  }
  // What is left after the plan: one more check, a gap later (small by construction).
  checks += alivePrev;
  inFlight += alivePrev * (before + (Number.isFinite(tailGapMs) ? tailGapMs : 0));
  return inFlight > 0 ? (checks * 1000) / inFlight : Number.POSITIVE_INFINITY;
}

/** How long until the next check of a job that has been running `elapsedMs`. */
export function nextCheckDelay(plan: CheckPlan, elapsedMs: number): number {
  const next = plan.times.find((t) => t > elapsedMs);
  if (next === undefined) return plan.tailGapMs;
  return Math.min(Math.max(next - elapsedMs, plan.minGapMs), plan.maxGapMs);
}

/** Today's rule, for kinds without history: the first check one interval after submit, then ×1.5 up to ×6. */
export function backoffGap(baseIntervalMs: number, checksDone: number): number {
  if (checksDone <= 0) return baseIntervalMs;
  return Math.min(baseIntervalMs * 1.5 ** Math.min(checksDone - 1, 8), baseIntervalMs * 6);
}

/** Today's rule's check times (without its jitter), up to the horizon. */
export function todaysChecks(options: ScheduleOptions): number[] {
  const times: number[] = [];
  for (let t = 0, k = 0; t < options.horizonMs; k++) {
    t += backoffGap(options.baseIntervalMs, k);
    times.push(t);
  }
  return times;
}

function sortedQuantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const i = Math.floor(at);
  const j = Math.min(i + 1, sorted.length - 1);
  return sorted[i]! + (sorted[j]! - sorted[i]!) * (at - i);
}

/** The z with `normalCdf(z) = p`, by bisection. */
function normalQuantile(p: number): number {
  let a = -10;
  let b = 10;
  for (let i = 0; i < 50; i++) {
    const m = (a + b) / 2;
    if (normalCdf(m) < p) a = m;
    else b = m;
  }
  return (a + b) / 2;
}

/** Standard normal CDF (Abramowitz and Stegun 7.1.26, error below 1e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
