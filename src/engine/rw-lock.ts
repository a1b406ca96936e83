/**
 * An async readers–writer lock: any number of shared holders, or one exclusive holder.
 * Waiting exclusive holders go first, so a stream of shared work cannot starve them.
 */
export class RwLock {
  #shared = 0;
  #exclusive = false;
  #waitingExclusive: (() => void)[] = [];
  #waitingShared: (() => void)[] = [];

  /** Runs `fn` beside other shared work, never during exclusive work. */
  async shared<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#exclusive || this.#waitingExclusive.length > 0) {
      // #wake counts this holder in before resuming it, so no exclusive holder can slip in
      // between the wake-up and the resumption.
      await new Promise<void>((resolve) => this.#waitingShared.push(resolve));
    } else {
      this.#shared++;
    }
    try {
      return await fn();
    } finally {
      this.#shared--;
      this.#wake();
    }
  }

  /** Runs `fn` alone. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#exclusive || this.#shared > 0 || this.#waitingExclusive.length > 0) {
      await new Promise<void>((resolve) => this.#waitingExclusive.push(resolve));
    } else {
      this.#exclusive = true;
    }
    try {
      return await fn();
    } finally {
      this.#exclusive = false;
      this.#wake();
    }
  }

  #wake(): void {
    if (this.#exclusive) return;
    const next = this.#waitingExclusive.shift();
    if (next !== undefined) {
      if (this.#shared > 0) {
        this.#waitingExclusive.unshift(next);
        return;
      }
      this.#exclusive = true;
      next();
      return;
    }
    const readers = this.#waitingShared.splice(0);
    this.#shared += readers.length;
    for (const resume of readers) resume();
  }
}
