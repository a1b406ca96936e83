import { LruMap } from "../core/lru.ts";
import type { Clock } from "../core/types.ts";

interface Bucket {
  tokens: number;
  at: number;
}

/** Most callers a limiter remembers; past it, the least recently seen is forgotten (a full bucket). */
const MAX_BUCKETS = 100_000;

/**
 * A token bucket per caller, in this instance's memory: `perSecond` requests a second on
 * average, in bursts of up to `perSecond`. Instances do not share buckets, so across N instances
 * a caller gets up to N times the rate; the limit guards each instance, not a global quota.
 */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #clock: Clock;
  readonly #buckets = new LruMap<Bucket>(MAX_BUCKETS);

  constructor(perSecond: number, clock: Clock) {
    this.#perSecond = perSecond;
    this.#clock = clock;
  }

  /** Takes one request for `caller`: 0 when it may go on, else the whole seconds until it may. */
  take(caller: string): number {
    const now = this.#clock.now();
    const bucket = this.#buckets.peek(caller);
    const rate = this.#perSecond / 1000;
    const tokens =
      bucket === undefined
        ? this.#perSecond
        : Math.min(this.#perSecond, bucket.tokens + (now - bucket.at) * rate);
    this.#buckets.set(caller, { tokens: tokens >= 1 ? tokens - 1 : tokens, at: now });
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / rate / 1000));
  }
}
