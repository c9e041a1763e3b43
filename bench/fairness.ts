/**
 * `npm run bench:fairness`: one server asks for 100 videos, then nine other servers one each, with the API
 * account running 4 tasks at once. The real queue (`claimQueuedJobs`, its SQL on PGlite) decides who is sent
 * next; time is simulated (each task runs a fixed time), so the figures are the queue's order, not the
 * machine's speed. Printed side by side with first come, first served (the same claim, ordered by arrival).
 * Bench code, not product code: it may read process.env.
 */
import { inArray, sql } from "drizzle-orm";
import { openDatabase } from "../src/db/database.js";
import { jobs } from "../src/db/schema.js";
import { claimQueuedJobs } from "../src/jobs/queue.js";
import { ensureGuild } from "../src/ledger/index.js";
import { silentLogger } from "../src/log.js";

const CAP = 4;
const BIG = 100;
const SMALL = 9;
/** Each task's run time at the API, in simulated seconds. */
const TASK_S = Number(process.env.BENCH_TASK_SECONDS ?? 60);
const T0 = Date.parse("2026-12-01T00:00:00Z");

type Policy = "round-robin" | "first come, first served";

async function run(policy: Policy): Promise<{ small: number[]; big: number[] }> {
  const handle = await openDatabase({ dataDir: "memory://", logger: silentLogger() });
  const db = handle.db;
  try {
    const guild = (i: number) => String(900000000000000000n + BigInt(i));
    for (let g = 0; g <= SMALL; g++) await ensureGuild(db, guild(g), 0);
    const created = new Map<number, number>();
    let n = 0;
    const add = async (g: number, atMs: number) => {
      n += 1;
      const [row] = await db
        .insert(jobs)
        .values({
          interactionId: String(800000000000000000n + BigInt(n)),
          number: n,
          guildId: guild(g),
          channelId: "1",
          userId: "2",
          request: {},
          taskType: "std-text-to-video",
          estimatedCost: 0,
          applicationId: "3",
          tokenExpiresAt: new Date(T0 + 86_400_000),
          nextPollAt: new Date(T0 + atMs),
          createdAt: new Date(T0 + atMs),
        })
        .returning({ id: jobs.id, guildId: jobs.guildId });
      created.set(row!.id, atMs);
    };
    // The busy server asks first (all 100 within a second), the nine quiet ones a second later.
    for (let i = 0; i < BIG; i++) await add(0, i * 10);
    for (let g = 1; g <= SMALL; g++) await add(g, 1_000 + g * 10);

    const startedAt = new Map<number, number>();
    const running: { id: number; endsAt: number }[] = [];
    let now = 1_000 + SMALL * 10 + 1;
    while (startedAt.size < BIG + SMALL) {
      let picked: number[];
      if (policy === "round-robin") {
        const claimed = await claimQueuedJobs(db, {
          owner: "bench",
          limit: CAP,
          cap: CAP,
          leaseMs: 1,
          now: new Date(T0 + now),
        });
        picked = claimed.jobs.map((j) => j.id);
      } else {
        const free = CAP - running.length;
        const rows = await db
          .select({ id: jobs.id })
          .from(jobs)
          .where(sql`${jobs.state} = 'pending'`)
          .orderBy(jobs.createdAt, jobs.id)
          .limit(Math.max(free, 0));
        picked = rows.map((r) => r.id);
      }
      if (picked.length) {
        await db.update(jobs).set({ state: "running" }).where(inArray(jobs.id, picked));
        for (const id of picked) {
          startedAt.set(id, now);
          running.push({ id, endsAt: now + TASK_S * 1000 });
        }
      }
      // Jump to the next task's end: it is seen ending, and its place frees.
      running.sort((a, b) => a.endsAt - b.endsAt);
      const done = running.shift();
      if (!done) break;
      now = done.endsAt;
      await db
        .update(jobs)
        .set({ state: "completed" })
        .where(inArray(jobs.id, [done.id]));
    }
    const waits = [...startedAt].map(([id, at]) => ({ id, wait: (at - created.get(id)!) / 1000 }));
    const firstSmall = BIG + 1;
    return {
      small: waits.filter((w) => w.id >= firstSmall).map((w) => w.wait),
      big: waits.filter((w) => w.id < firstSmall).map((w) => w.wait),
    };
  } finally {
    await handle.close();
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

const results = [] as { policy: Policy; small: number[]; big: number[] }[];
for (const policy of ["round-robin", "first come, first served"] as const) {
  results.push({ policy, ...(await run(policy)) });
}
console.log(
  `${BIG} jobs from one server, then ${SMALL} servers with one each; KLING_MAX_IN_FLIGHT=${CAP}; each task ${TASK_S} s (simulated)`,
);
console.log("policy                     nine: median wait  max wait   busy server: median wait  max wait");
for (const r of results) {
  console.log(
    `${r.policy.padEnd(26)} ${`${median(r.small).toFixed(0)} s`.padStart(17)} ${`${Math.max(...r.small).toFixed(0)} s`.padStart(9)}   ${`${median(r.big).toFixed(0)} s`.padStart(24)} ${`${Math.max(...r.big).toFixed(0)} s`.padStart(9)}`,
  );
}
const [rr, fcfs] = results;
console.log(
  `the nine's median wait: ${(median(fcfs!.small) / Math.max(median(rr!.small), 1)).toFixed(1)}× shorter with round-robin`,
);
