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
}

/**
 * A bounded, synchronous LRU map with per-entry deadlines: a cache hit never does I/O.
 * It also remembers recent writes, so that a read that started before a write through this
 * instance cannot put back the value the write replaced.
 */
export class L1Cache<T> {
  #slots = new Map<string, Slot<T>>();
  #writes = 0;
  /** The latest write whose slot was evicted: a read older than it may not fill any slot. */
  #evictedWrite = -1;
  #ttlMs: number;
  #maxEntries: number;
  #clock: Clock;

  constructor(options: L1CacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#clock = options.clock;
  }

  /** Whether the cache keeps anything at all. */
  get enabled(): boolean {
    return this.#ttlMs > 0 && this.#maxEntries > 0;
  }

  get size(): number {
    return this.#slots.size;
  }

  /** A ticket to pass to `fill` after a read from the database. */
  ticket(): number {
    return this.#writes;
  }

  /** The live value of `key`, refreshing its recency; undefined on a miss. */
  get(key: string): T | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.value === undefined || slot.deadline <= this.#clock.now()) {
      if (slot.value !== undefined) slot.value = undefined;
      return undefined;
    }
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    return slot.value;
  }

  /**
   * Stores what a read found, unless a write through this instance touched the key since
   * `ticket` was taken. `expiresAt` (epoch ms) is the key's own expiry, if any.
   */
  fill(key: string, value: T, ticket: number, expiresAt: number | null): void {
    if (!this.enabled) return;
    const slot = this.#slots.get(key);
    if (slot === undefined ? this.#evictedWrite >= ticket : slot.writtenAt >= ticket) return;
    this.#put(key, value, expiresAt, slot?.writtenAt ?? -1);
  }

  /** Records a write through this instance: the new value when known, else a tombstone. */
  write(key: string, value: T | undefined, expiresAt: number | null = null): void {
    if (!this.enabled) return;
    this.#put(key, value, expiresAt, this.#writes++);
  }

  #put(key: string, value: T | undefined, expiresAt: number | null, writtenAt: number): void {
    const now = this.#clock.now();
    const deadline = Math.min(now + this.#ttlMs, expiresAt ?? Number.POSITIVE_INFINITY);
    this.#slots.delete(key);
    this.#slots.set(key, { value: deadline > now ? value : undefined, deadline, writtenAt });
    while (this.#slots.size > this.#maxEntries) {
      const oldest = this.#slots.entries().next().value;
      if (oldest === undefined) break;
      this.#evictedWrite = Math.max(this.#evictedWrite, oldest[1].writtenAt);
      this.#slots.delete(oldest[0]);
    }
  }

  /** Drops every entry; a read that began before is not stored when it ends. */
  clear(): void {
    this.#slots.clear();
    this.#evictedWrite = this.#writes++;
  }
}
