/**
 * Acknowledgements waiting for a sink: a source that acknowledges its sender only once the
 * records are safe waits here for a position (see `SinkNode.whenSafe`).
 *
 * @module
 */

/** One acknowledgement waiting for a sink. */
interface AckWaiter {
  position: number;
  losses: number;
  resolve(safe: boolean): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The acknowledgements waiting for one sink, each until a position or a deadline. */
export class AckWaiters {
  #waiters: AckWaiter[] = [];

  /**
   * Resolves `true` once {@linkcode AckWaiters.settle} reports `position` safe with the same
   * losses, `false` on any new loss or at `deadline` (epoch ms).
   */
  wait(position: number, losses: number, deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: AckWaiter = {
        position,
        losses,
        resolve,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          resolve(false);
        }, Math.max(0, deadline - Date.now())),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Resolves every waiter `resolved` reaches (true) or a loss since its start concerns (false). */
  settle(resolved: number, losses: number): void {
    if (this.#waiters.length === 0) return;
    const left: AckWaiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.losses !== losses || resolved >= waiter.position) {
        clearTimeout(waiter.timer);
        waiter.resolve(waiter.losses === losses);
      } else left.push(waiter);
    }
    this.#waiters = left;
  }

  /** Resolves every waiter left `false` (the sink has shut). */
  failAll(): void {
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.#waiters = [];
  }
}
