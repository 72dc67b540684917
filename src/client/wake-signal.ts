/**
 * A level-triggered wake-up: a notification that arrives while nobody waits is kept, so a worker
 * that checks for work and then sleeps cannot miss a notification sent in between.
 */
export class WakeSignal {
  private pending = false;
  private waiter: (() => void) | undefined;

  notify(): void {
    this.pending = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** Forgets notifications that arrived before the work they announce was looked for. */
  clear(): void {
    this.pending = false;
  }

  /** Resolves on the next notification (or at once if one is pending), or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve();
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        this.pending = false;
        resolve();
      };
    });
  }
}
