/**
 * A pause that a poke ends early. A poke that comes while nobody sleeps is kept for the next pause, which then
 * ends at once: a job handed over while the poller is busy is never slept through.
 */
export class Alarm {
  private wake: (() => void) | undefined;
  private poked = false;

  /** End the current pause now, or the next one as soon as it starts. */
  poke(): void {
    if (this.wake) this.wake();
    else this.poked = true;
  }

  /** Resolves after `ms`, or at the first poke (one given since the last pause included). */
  sleep(ms: number): Promise<void> {
    if (this.poked) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        // A pause that ran out leaves no waker behind: a later poke must be kept, not spent on it.
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
