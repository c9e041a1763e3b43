import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Alarm } from "../../src/jobs/alarm.js";

/** The poller's pause: on Node's timers, faked so that nothing here waits in real time. */
describe("the poller's pause", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** Whether the pause has ended once `ms` of (fake) time went by. */
  async function endedAfter(pause: Promise<void>, ms: number): Promise<boolean> {
    let ended = false;
    void pause.then(() => {
      ended = true;
    });
    await vi.advanceTimersByTimeAsync(ms);
    return ended;
  }

  it("runs its length when nobody pokes it", async () => {
    const alarm = new Alarm();
    const pause = alarm.sleep(5_000);
    expect(await endedAfter(pause, 4_999)).toBe(false);
    expect(await endedAfter(pause, 1)).toBe(true);
  });

  it("ends at a poke", async () => {
    const alarm = new Alarm();
    const pause = alarm.sleep(5_000);
    alarm.poke();
    expect(await endedAfter(pause, 0)).toBe(true);
  });

  it("keeps a poke given while nobody sleeps for the next pause", async () => {
    const alarm = new Alarm();
    alarm.poke();
    expect(await endedAfter(alarm.sleep(5_000), 0)).toBe(true);
    // Spent: the pause after that runs its length.
    expect(await endedAfter(alarm.sleep(5_000), 10)).toBe(false);
  });

  it("keeps a poke that comes after a pause ran out, before the next one starts", async () => {
    const alarm = new Alarm();
    expect(await endedAfter(alarm.sleep(60), 60)).toBe(true);
    // A job handed over while the poller is between two pauses (working through a pass).
    alarm.poke();
    expect(await endedAfter(alarm.sleep(5_000), 0)).toBe(true);
  });

  it("keeps a poke that comes after a pause ended by an earlier poke", async () => {
    const alarm = new Alarm();
    const first = alarm.sleep(5_000);
    alarm.poke();
    expect(await endedAfter(first, 0)).toBe(true);
    alarm.poke();
    expect(await endedAfter(alarm.sleep(5_000), 0)).toBe(true);
  });
});
