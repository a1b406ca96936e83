/**
 * Coalesces concurrent loads of single keys into one call for many: every key asked for in
 * the same turn of the event loop goes out together (at most `max` a call), and each caller
 * gets its own answer. A failed call fails only the keys it carried, each with the same error
 * it would have had alone.
 */
export class Coalescer<V> {
  readonly #load: (keys: string[]) => Promise<Map<string, V>>;
  readonly #max: number;
  #waiting = new Map<string, { resolve: (value: V) => void; reject: (error: unknown) => void }[]>();
  #scheduled = false;

  constructor(load: (keys: string[]) => Promise<Map<string, V>>, max = 100) {
    this.#load = load;
    this.#max = max;
  }

  load(key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const waiters = this.#waiting.get(key);
      if (waiters === undefined) this.#waiting.set(key, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const all = this.#waiting;
    this.#waiting = new Map();
    const keys = [...all.keys()];
    for (let i = 0; i < keys.length; i += this.#max) {
      const batch = keys.slice(i, i + this.#max);
      this.#load(batch).then(
        (found) => {
          for (const key of batch) {
            const value = found.get(key);
            for (const waiter of all.get(key) ?? []) {
              if (value === undefined) waiter.reject(new Error(`no answer for a requested key`));
              else waiter.resolve(value);
            }
          }
        },
        (error: unknown) => {
          for (const key of batch) for (const waiter of all.get(key) ?? []) waiter.reject(error);
        },
      );
    }
  }
}

/** What one item of a batch came to: its value, or the error it alone failed with. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** One item waiting for its batch. */
interface Waiter<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Groups concurrent writes into one call: every item added in the same turn of the event loop
 * goes out together (at most `max` a call), and each `add` settles once the call that carried
 * it has committed. The call answers each item's own outcome, in order; when it throws, every item
 * it carried fails with that error. With `keyOf`, the items of one key always share a call (which
 * may then pass `max`), so the calls of a turn, which run concurrently, never reorder them.
 */
export class Batcher<I, R> {
  readonly #run: (items: I[]) => Promise<readonly Settled<R>[]>;
  readonly #max: number;
  readonly #keyOf: ((item: I) => string) | undefined;
  #waiting: Waiter<I, R>[] = [];

  constructor(run: (items: I[]) => Promise<readonly Settled<R>[]>, max = 100, keyOf?: (item: I) => string) {
    this.#run = run;
    this.#max = max;
    this.#keyOf = keyOf;
  }

  add(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.#waiting.length === 0) setImmediate(() => this.#flush());
      this.#waiting.push({ item, resolve, reject });
    });
  }

  /** The calls of a turn: slices of at most `max`, or with `keyOf`, whole keys up to `max`. */
  #batches(all: Waiter<I, R>[]): Waiter<I, R>[][] {
    const keyOf = this.#keyOf;
    if (keyOf === undefined || all.length <= this.#max) {
      const out: Waiter<I, R>[][] = [];
      for (let i = 0; i < all.length; i += this.#max) out.push(all.slice(i, i + this.#max));
      return out;
    }
    const byKey = new Map<string, Waiter<I, R>[]>();
    for (const waiter of all) {
      const key = keyOf(waiter.item);
      const group = byKey.get(key);
      if (group === undefined) byKey.set(key, [waiter]);
      else group.push(waiter);
    }
    const out: Waiter<I, R>[][] = [];
    let batch: Waiter<I, R>[] = [];
    for (const group of byKey.values()) {
      if (batch.length > 0 && batch.length + group.length > this.#max) {
        out.push(batch);
        batch = [];
      }
      batch.push(...group);
    }
    if (batch.length > 0) out.push(batch);
    return out;
  }

  #flush(): void {
    const all = this.#waiting;
    this.#waiting = [];
    for (const batch of this.#batches(all)) {
      this.#run(batch.map((w) => w.item)).then(
        (settled) => {
          batch.forEach((w, n) => {
            const outcome = settled[n];
            if (outcome === undefined) w.reject(new Error("no outcome for a batched write"));
            else if (outcome.ok) w.resolve(outcome.value);
            else w.reject(outcome.error);
          });
        },
        (error: unknown) => {
          for (const w of batch) w.reject(error);
        },
      );
    }
  }
}
