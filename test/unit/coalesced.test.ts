import { describe, expect, it } from "vitest";
import { coalesced } from "../../src/bot.js";

/** The pollers' wake-up call (NOTIFY) of a burst of hand-overs: one run at a time, none missed. */
describe("coalesced", () => {
  function recorder() {
    const runs: { startedAt: number; finish: () => void; fail: (err: Error) => void }[] = [];
    let clock = 0;
    const run = () =>
      new Promise<void>((finish, fail) => {
        runs.push({ startedAt: ++clock, finish, fail });
      });
    return { runs, run, tick: () => ++clock };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it("answers the calls made during a run with one more run after it", async () => {
    const { runs, run, tick } = recorder();
    const notify = coalesced(run);
    const first = notify();
    const calledAt = [tick(), tick(), tick()];
    const later = [notify(), notify(), notify()];
    expect(runs).toHaveLength(1);
    runs[0]!.finish();
    await first;
    await settle();
    expect(runs).toHaveLength(2);
    // The follow-up started after every call it answers.
    for (const at of calledAt) expect(runs[1]!.startedAt).toBeGreaterThan(at);
    runs[1]!.finish();
    await Promise.all(later);
    expect(runs).toHaveLength(2);
    // Idle again: the next call runs at once.
    void notify();
    expect(runs).toHaveLength(3);
    runs[2]!.finish();
  });

  it("tells a run's callers that it failed, and still runs for the calls made meanwhile", async () => {
    const { runs, run } = recorder();
    const notify = coalesced(run);
    const first = notify();
    const second = notify();
    runs[0]!.fail(new Error("connection lost"));
    await expect(first).rejects.toThrow("connection lost");
    await settle();
    expect(runs).toHaveLength(2);
    runs[1]!.finish();
    await expect(second).resolves.toBeUndefined();
  });
});
