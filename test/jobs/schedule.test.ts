import { describe, expect, it } from "vitest";
import {
  type CheckPlan,
  expectedDelay,
  expectedRate,
  fixedIntervalPlan,
  MAX_GAP_MS,
  MIN_HISTORY,
  maxGapFor,
  minGapFor,
  nextCheckDelay,
  planChecks,
  planFromFinds,
  type RunTimeModel,
  runTimeModel,
  type ScheduleOptions,
  shareStep,
  spansOf,
  todaysChecks,
  todaysPlan,
} from "../../src/jobs/schedule.js";
import { normalDraw, seededRandom } from "../helpers/random.js";

/**
 * The planning of status checks on its own, property-style: many histories (narrow, wide, two-humped, a
 * handful of samples or many), budgets from far too little to plenty, and base intervals, all drawn from a
 * seeded generator so that every run checks the same cases.
 */

interface Case {
  label: string;
  samples: number[];
  /** Draws a run time like the history's. */
  draw: (rand: () => number) => number;
  share: number;
  options: ScheduleOptions;
}

function cases(count: number, seed: number): Case[] {
  const rand = seededRandom(seed);
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const median = 200 * 6_000 ** rand(); // 0.2 s to 20 min
    const sigma = 0.01 + rand() * 0.9;
    const shape = Math.floor(rand() * 3);
    const draw =
      shape === 0
        ? (r: () => number) => median * Math.exp(sigma * normalDraw(r))
        : shape === 1
          ? // Two humps: a quarter of the jobs take about three times as long.
            (r: () => number) => median * (r() < 0.25 ? 3 : 1) * Math.exp(sigma * 0.3 * normalDraw(r))
          : (r: () => number) => median * (0.5 + r());
    const n = MIN_HISTORY + Math.floor(rand() * 60);
    const samples = Array.from({ length: n }, () => draw(rand));
    const share = 10 ** (-4 + rand() * 5); // 0.0001 to 10 checks per second per job
    const baseIntervalMs = 50 + rand() * 9_950;
    const horizonMs = Math.max(median * 8, 5 * 60_000) * (1 + rand());
    out.push({
      label: `#${i} ${["lognormal", "two humps", "uniform"][shape]} median ${Math.round(median)} ms σ ${sigma.toFixed(2)} n ${n}, ${share.toPrecision(2)}/s, base ${Math.round(baseIntervalMs)} ms`,
      samples,
      draw,
      share,
      options: { baseIntervalMs, horizonMs },
    });
  }
  return out;
}

const today = (options: ScheduleOptions): CheckPlan => ({
  times: todaysChecks(options),
  tailGapMs: 6 * options.baseIntervalMs,
  maxGapMs: 6 * options.baseIntervalMs,
  minGapMs: options.baseIntervalMs,
});

function gapsOf(plan: CheckPlan): number[] {
  return plan.times.map((t, i) => t - (i === 0 ? 0 : plan.times[i - 1]!));
}

/** The checks a job ending at `endMs` gets under `plan`, as the poller makes them (next after each check). */
function checksUntilFound(plan: CheckPlan, endMs: number): number[] {
  const checks: number[] = [];
  let t = 0;
  do {
    t += nextCheckDelay(plan, t);
    checks.push(t);
  } while (t < endMs);
  return checks;
}

const CASES = cases(60, 20260601).map((c) => ({ ...c, model: runTimeModel(c.samples)! }));

describe("planning status checks", () => {
  it("plans for every case drawn (the properties below are not vacuous)", () => {
    expect(CASES).toHaveLength(60);
    for (const c of CASES) expect(c.model, c.label).toBeDefined();
    // Budgets on both sides of one check a minute, and of today's rule.
    expect(CASES.filter((c) => c.share < 1 / 60).length).toBeGreaterThan(10);
    expect(CASES.filter((c) => c.share > 1).length).toBeGreaterThan(10);
  });

  it.each(CASES)(
    "never leaves more than a minute between checks while the budget affords it: $label",
    (c) => {
      const plan = planChecks(c.model, c.share, c.options);
      const limit = maxGapFor(c.share);
      if (c.share >= 3 / 60) expect(limit).toBe(MAX_GAP_MS);
      expect(Math.max(...gapsOf(plan)), "planned gaps").toBeLessThanOrEqual(limit + 1);
      // However late a check happens, the next one is at most that far off, and never sooner than the shortest gap.
      const rand = seededRandom(c.samples.length);
      for (let i = 0; i < 200; i++) {
        const elapsed = rand() * c.options.horizonMs;
        const delay = nextCheckDelay(plan, elapsed);
        expect(delay).toBeLessThanOrEqual(limit + 1);
        expect(delay).toBeGreaterThanOrEqual(Math.min(minGapFor(c.options), plan.minGapMs));
      }
    },
  );

  it.each(CASES)(
    "spends no more than the job's share of the budget, nor more than today's rule: $label",
    (c) => {
      const plan = planChecks(c.model, c.share, c.options);
      const rate = expectedRate(c.model, plan.times, plan.tailGapMs);
      const todays = today(c.options);
      const todayRate = expectedRate(c.model, todays.times, todays.tailGapMs);
      expect(rate).toBeLessThanOrEqual(Math.min(c.share, todayRate) * (1 + 1e-9));
      // With N jobs each given R/N, the fleet stays within R.
      const jobs = 2_000;
      expect(jobs * rate).toBeLessThanOrEqual(jobs * c.share * (1 + 1e-9));
    },
  );

  it.each(CASES)("is never worse than today's rule or a fixed interval at the same budget: $label", (c) => {
    const plan = planChecks(c.model, c.share, c.options);
    const delay = expectedDelay(c.model, plan);
    const todays = today(c.options);
    const todayRate = expectedRate(c.model, todays.times, todays.tailGapMs);
    if (c.share >= todayRate) {
      expect(delay).toBeLessThanOrEqual(expectedDelay(c.model, todays) + 1e-6);
    }
    // A fixed interval spending the same: the job's share, or today's rule's rate if that is less.
    const rate = Math.min(c.share, todayRate);
    const interval = Math.ceil(Math.min(Math.max(1000 / rate, minGapFor(c.options)), maxGapFor(c.share)));
    const fixed: CheckPlan = {
      times: Array.from({ length: Math.ceil(c.options.horizonMs / interval) }, (_, i) => (i + 1) * interval),
      tailGapMs: interval,
      maxGapMs: interval,
      minGapMs: interval,
    };
    if (expectedRate(c.model, fixed.times, fixed.tailGapMs) <= rate) {
      expect(delay).toBeLessThanOrEqual(expectedDelay(c.model, fixed) * 1.001 + 1);
    }
  });

  it.each(CASES)("checks more densely around the likely end than before it: $label", (c) => {
    const plan = planChecks(c.model, c.share, c.options);
    const q10 = quantile(c.model, 0.1);
    const q90 = quantile(c.model, 0.9);
    const early = plan.times.filter((t) => t < q10).length;
    const around = plan.times.filter((t) => t >= q10 && t <= q90).length;
    // Checks per second; one check of slack for where a fixed rhythm happens to fall.
    expect((around + 1) / (q90 - q10)).toBeGreaterThanOrEqual(early / q10);
  });

  it("rounds a job's share down to a step of 5 %, never up", () => {
    const rand = seededRandom(5);
    for (let i = 0; i < 1_000; i++) {
      const share = 10 ** (-5 + rand() * 7);
      expect(shareStep(share)).toBeLessThanOrEqual(share);
      expect(shareStep(share)).toBeGreaterThan(share / 1.05);
    }
  });

  it.each(CASES.slice(0, 12))("runs as planned when checks follow one another: $label", (c) => {
    // Jobs drawn from the model itself: the checks the poller makes cost what the plan said.
    const plan = planChecks(c.model, c.share, c.options);
    const rand = seededRandom(7);
    let checks = 0;
    let inFlight = 0;
    for (let i = 0; i < 3_000; i++) {
      const end = quantile(c.model, rand() * 0.9999);
      const made = checksUntilFound(plan, end);
      checks += made.length;
      inFlight += made.at(-1)!;
    }
    const rate = (checks * 1000) / inFlight;
    expect(rate).toBeLessThanOrEqual(c.share * 1.08);
  });
});

describe("a kind of job with a narrow history, with budget to spare", () => {
  // Jobs of this kind take about three minutes (±3 %); one job in flight, five calls a second allowed.
  const rand = seededRandom(42);
  const samples = Array.from({ length: 50 }, () => 180_000 * Math.exp(0.03 * normalDraw(rand)));
  const model = runTimeModel(samples)!;
  const options = { baseIntervalMs: 5_000, horizonMs: 30 * 60_000 };
  const plan = planChecks(model, 5, options);
  const todays = today(options);

  it("is checked rarely while surely running and densely near its end", () => {
    expect(plan.times.filter((t) => t < 150_000).length).toBeLessThanOrEqual(4);
    expect(plan.times[0]).toBeGreaterThanOrEqual(30_000);
    const nearEnd = plan.times.filter((t) => t >= 172_000 && t <= 190_000);
    expect(nearEnd.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...nearEnd.slice(1).map((t, i) => t - nearEnd[i]!))).toBeLessThanOrEqual(5_000);
  });

  it("finds it sooner than today's rule with fewer checks, on average and at its median", () => {
    const ends = Array.from({ length: 99 }, (_, i) => quantile(model, (i + 1) / 100));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const planned = ends.map((end) => checksUntilFound(plan, end));
    const old = ends.map((end) => checksUntilFound(todays, end));
    expect(mean(planned.map((c) => c.length))).toBeLessThan(mean(old.map((c) => c.length)));
    const delays = (runs: number[][]) => runs.map((c, i) => c.at(-1)! - ends[i]!);
    expect(mean(delays(planned))).toBeLessThan(mean(delays(old)) / 2);
    const median = quantile(model, 0.5);
    const [atMedian, oldAtMedian] = [checksUntilFound(plan, median), checksUntilFound(todays, median)];
    expect(atMedian.length).toBeLessThan(oldAtMedian.length);
    expect(atMedian.at(-1)! - median).toBeLessThan(oldAtMedian.at(-1)! - median);
  });
});

describe("learning from its own finds", () => {
  // What the database holds is when each job was found finished, not when it ended: a rolling history of the
  // last 50 finds, ten new ones after each plan, as jobs of one kind come and go. Run times about two minutes.
  const options = { baseIntervalMs: 5_000, horizonMs: 30 * 60_000 };
  const draw = (rand: () => number) => 120_000 * Math.exp(0.25 * normalDraw(rand));
  const truth = runTimeModel(
    Array.from(
      { length: 400 },
      (
        (rand) => () =>
          draw(rand)
      )(seededRandom(3)),
    ),
  )!;
  const foundAt = (plan: CheckPlan, end: number) => checksUntilFound(plan, end).at(-1)!;
  /** Mean delay of a plan over jobs drawn like the real ones, in seconds. */
  const delayOf = (plan: CheckPlan) => {
    const rand = seededRandom(99);
    let sum = 0;
    for (let i = 0; i < 1_000; i++) {
      const end = draw(rand);
      sum += foundAt(plan, end) - end;
    }
    return sum / 1_000 / 1_000;
  };
  function rounds(plan: (finds: number[]) => CheckPlan): number[] {
    const rand = seededRandom(5);
    // A new kind starts with the finds of today's rule.
    const finds = Array.from({ length: 50 }, () => foundAt(todaysPlan(options), draw(rand)));
    const delays: number[] = [];
    for (let round = 0; round < 40; round++) {
      const current = plan(finds);
      if (round % 4 === 0) delays.push(delayOf(current));
      for (let i = 0; i < 10; i++) {
        finds.push(foundAt(current, draw(rand)));
        finds.shift();
      }
    }
    return delays;
  }

  it.each([0.01, 0.03])(
    "keeps finding jobs sooner than a fixed interval, without drifting (%s checks/s a job)",
    (share) => {
      const fixed = delayOf(fixedIntervalPlan(truth, share, options));
      const delays = rounds((finds) => planFromFinds(finds, share, options)!);
      for (const delay of delays) expect(delay).toBeLessThanOrEqual(fixed * 1.02);
      const late = delays.slice(-5).reduce((a, b) => a + b, 0) / 5;
      expect(late).toBeLessThan(fixed * 0.8);
    },
  );

  it("would drift later and later if it read the finds as run times", () => {
    const share = 0.01;
    const delays = rounds((finds) => planChecks(runTimeModel(finds)!, share, options));
    expect(delays.at(-1)!).toBeGreaterThan(delays[0]! * 1.5);
    expect(delays.at(-1)!).toBeGreaterThan(delayOf(fixedIntervalPlan(truth, share, options)));
  });

  it("counts a find served late as the check it was due at", () => {
    const plan: CheckPlan = {
      times: [60_000, 100_000, 120_000],
      tailGapMs: 60_000,
      maxGapMs: 60_000,
      minGapMs: 1_000,
    };
    expect(spansOf([100_000, 107_000, 60_000, 130_000, 185_000, 245_000], plan)).toEqual([
      { after: 60_000, by: 100_000 },
      { after: 60_000, by: 107_000 },
      { after: 0, by: 60_000 },
      { after: 100_000, by: 130_000 },
      { after: 120_000, by: 185_000 },
      { after: 180_000, by: 245_000 },
    ]);
  });
});

describe("without history", () => {
  it("has no model below the minimum of finished jobs, or from unusable times", () => {
    expect(runTimeModel([60_000, 61_000, 62_000, 63_000])).toBeUndefined();
    expect(runTimeModel([60_000, 61_000, 62_000, 63_000, Number.NaN, -5, 0])).toBeUndefined();
    expect(runTimeModel([60_000, 61_000, 62_000, 63_000, 64_000])).toBeDefined();
  });

  it("keeps today's rule as the fallback: one interval, then ×1.5 per check up to ×6", () => {
    const times = todaysChecks({ baseIntervalMs: 5_000, horizonMs: 200_000 });
    expect(times.slice(0, 9)).toEqual([
      5_000, 10_000, 17_500, 28_750, 45_625, 70_937.5, 100_937.5, 130_937.5, 160_937.5,
    ]);
  });
});

/** The time by which a share `p` of a model's jobs have ended. */
function quantile(model: RunTimeModel, p: number): number {
  let lo = 0;
  let hi = model.medianMs;
  while (model.cdf(hi) < p && hi < 1e12) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (model.cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return hi;
}
