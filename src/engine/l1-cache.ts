import { LruMap } from "../core/lru.ts";
import type { Clock } from "../core/types.ts";

/** Options of `L1Cache`. */
export interface L1CacheOptions {
  /** Longest life of an entry, in ms; 0 turns the cache off. */
  ttlMs: number;
  /** Most entries; the least recently used goes first. */
  maxEntries: number;
  clock: Clock;
}

interface Slot<T> {
  value: T | undefined;
  deadline: number;
  /** The write count when a write through this instance last touched the key. */
  writtenAt: number;
  /** When what the slot holds was read (or written): on the clock, before the read began. */
  filledAt: number;
}

/** What `fill` needs of the moment a read began: the writes so far, and the clock. */
export interface Ticket {
  readonly writes: number;
  readonly at: number;
}

/**
 * A bounded, synchronous LRU map with per-entry deadlines: a cache hit never does I/O.
 * It also remembers recent writes, so that a read that started before a write through this
 * instance cannot put back the value the write replaced.
 */
export class L1Cache<T> {
  readonly #slots: LruMap<Slot<T>>;
  #writes = 0;
  /** The latest write whose slot was evicted: a read older than it may not fill any slot. */
  #evictedWrite = -1;
  #ttlMs: number;
  #maxEntries: number;
  #clock: Clock;
  /** Lookups answered, lookups not answered, and entries pushed out by the bound, since start. */
  readonly counts = { hits: 0, misses: 0, evictions: 0 };

  constructor(options: L1CacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#clock = options.clock;
    this.#slots = new LruMap(options.maxEntries, (_key, slot) => {
      this.#evictedWrite = Math.max(this.#evictedWrite, slot.writtenAt);
      this.counts.evictions++;
    });
  }

  /** Whether the cache keeps anything at all. */
  get enabled(): boolean {
    return this.#ttlMs > 0 && this.#maxEntries > 0;
  }

  get size(): number {
    return this.#slots.size;
  }

  /** A ticket to take before a read from the database, and to pass to `fill` after it. */
  ticket(): Ticket {
    return { writes: this.#writes, at: this.#clock.now() };
  }

  /**
   * The live value of `key`, refreshing its recency; undefined on a miss. With `after`, only
   * what was read later than that instant counts (a request's read-your-writes bound).
   */
  get(key: string, after?: number): T | undefined {
    const slot = this.#slots.peek(key);
    if (slot === undefined || slot.value === undefined) {
      this.counts.misses++;
      return undefined;
    }
    if (slot.deadline <= this.#clock.now()) {
      slot.value = undefined;
      this.counts.misses++;
      return undefined;
    }
    if (after !== undefined && slot.filledAt <= after) {
      this.counts.misses++;
      return undefined;
    }
    this.#slots.touch(key);
    this.counts.hits++;
    return slot.value;
  }

  /**
   * Stores what a read found, unless a write through this instance touched the key since
   * `ticket` was taken. `expiresAt` (epoch ms) is the key's own expiry, if any.
   */
  fill(key: string, value: T, ticket: Ticket, expiresAt: number | null): void {
    if (!this.enabled) return;
    const slot = this.#slots.peek(key);
    if (slot === undefined ? this.#evictedWrite >= ticket.writes : slot.writtenAt >= ticket.writes) return;
    this.#put(key, value, expiresAt, slot?.writtenAt ?? -1, ticket.at);
  }

  /**
   * Records a write through this instance: the new value when known, else a tombstone.
   * `startedAt` is when the write began (a value kept counts as read then).
   */
  write(key: string, value: T | undefined, expiresAt: number | null = null, startedAt?: number): void {
    if (!this.enabled) return;
    this.#put(key, value, expiresAt, this.#writes++, startedAt ?? this.#clock.now());
  }

  #put(
    key: string,
    value: T | undefined,
    expiresAt: number | null,
    writtenAt: number,
    filledAt: number,
  ): void {
    const now = this.#clock.now();
    const deadline = Math.min(now + this.#ttlMs, expiresAt ?? Number.POSITIVE_INFINITY);
    this.#slots.set(key, { value: deadline > now ? value : undefined, deadline, writtenAt, filledAt });
  }

  /** Drops every entry; a read that began before is not stored when it ends. */
  clear(): void {
    this.#slots.clear();
    this.#evictedWrite = this.#writes++;
  }
}
