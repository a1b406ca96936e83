import { L1Cache } from "../cache/l1-cache.ts";
import { snapshotCovers, snapshotGet, snapshotHGet, snapshotHGetAll, snapshotsMGet } from "./snapshot.ts";
import type {
  Clock,
  FieldSelection,
  JsonValue,
  KeysOptions,
  KeysPage,
  KvStore,
  LockResult,
  SetOptions,
  Snapshot,
  SnapshotSource,
} from "./types.ts";
import { SYSTEM_CLOCK } from "./types.ts";

/** Options of `CachedStore` (SPEC §4). */
export interface CachedStoreOptions {
  /** Longest life of an L1 entry in ms (default 5,000; 0 turns L1 off). */
  ttlMs?: number;
  /** Most L1 entries (default 10,000). */
  maxEntries?: number;
  clock?: Clock;
}

/** A read answered by `CachedStore`, and whether L1 answered it. */
export interface Lookup<T> {
  value: T;
  hit: boolean;
}

/** Options of a cached read. */
export interface ReadOptions {
  /** Skip L1, read the database, and refresh L1 (`Cache-Control: no-cache`). */
  noCache?: boolean;
}

/**
 * The L1 of SPEC §4 in front of any store: reads of whole keys are kept in a bounded,
 * in-process LRU for at most the L1 TTL and never past the key's expiry; every write through
 * this instance updates or drops the key's entry first, so the instance reads its own writes.
 * Locks, counters, `ttl` and `keys` always go to the store.
 */
export class CachedStore implements KvStore, SnapshotSource {
  readonly kind: KvStore["kind"];
  readonly l1: L1Cache<Snapshot>;
  #inner: KvStore & SnapshotSource;
  #clock: Clock;

  constructor(inner: KvStore & SnapshotSource, options: CachedStoreOptions = {}) {
    this.#inner = inner;
    this.kind = inner.kind;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.l1 = new L1Cache<Snapshot>({
      ttlMs: options.ttlMs ?? 5_000,
      maxEntries: options.maxEntries ?? 10_000,
      clock: this.#clock,
    });
  }

  /** The snapshot of one key with the given hash fields, from L1 when it holds them. */
  async lookup(
    key: string,
    fields: FieldSelection = "none",
    options: ReadOptions = {},
  ): Promise<Lookup<Snapshot>> {
    if (!options.noCache) {
      const cached = this.l1.get(key);
      if (cached !== undefined && snapshotCovers(cached, fields)) return { value: cached, hit: true };
    }
    const ticket = this.l1.ticket();
    const snapshot = await this.#inner.inspect(key, fields);
    this.l1.fill(key, snapshot, ticket, snapshot.kind === "none" ? null : snapshot.expiresAt);
    return { value: snapshot, hit: false };
  }

  /** Snapshots of many keys (hashes without fields); a hit only when L1 holds every key. */
  async lookupMany(keys: string[], options: ReadOptions = {}): Promise<Lookup<Map<string, Snapshot>>> {
    const out = new Map<string, Snapshot>();
    const missing: string[] = [];
    for (const key of keys) {
      const cached = options.noCache ? undefined : this.l1.get(key);
      if (cached === undefined) missing.push(key);
      else out.set(key, cached);
    }
    if (missing.length === 0) return { value: out, hit: true };
    const ticket = this.l1.ticket();
    const found = await this.#inner.inspectMany(missing);
    for (const [key, snapshot] of found) {
      out.set(key, snapshot);
      this.l1.fill(key, snapshot, ticket, snapshot.kind === "none" ? null : snapshot.expiresAt);
    }
    return { value: out, hit: false };
  }

  async inspect(key: string, fields: FieldSelection = "none"): Promise<Snapshot> {
    return (await this.lookup(key, fields)).value;
  }

  async inspectMany(keys: string[]): Promise<Map<string, Snapshot>> {
    return (await this.lookupMany(keys)).value;
  }

  // The public reads hand out copies: a caller that changes its result must not change L1.
  async get(key: string): Promise<JsonValue | undefined> {
    return structuredClone(snapshotGet(await this.inspect(key)));
  }

  async exists(key: string): Promise<boolean> {
    return (await this.inspect(key)).kind !== "none";
  }

  async hGet(key: string, field: string): Promise<JsonValue | undefined> {
    return structuredClone(snapshotHGet(await this.inspect(key, [field]), field));
  }

  async hGetAll(key: string): Promise<Record<string, JsonValue>> {
    return structuredClone(snapshotHGetAll(await this.inspect(key, "all")));
  }

  async mGet(keys: string[]): Promise<Record<string, JsonValue>> {
    return structuredClone(snapshotsMGet(keys, await this.inspectMany(keys)));
  }

  /** Runs a write, dropping the key's L1 entry before it and after it. */
  async #write<T>(key: string, write: () => Promise<T>): Promise<T> {
    this.l1.write(key, undefined);
    try {
      return await write();
    } finally {
      this.l1.write(key, undefined);
    }
  }

  async set(key: string, value: JsonValue, options: SetOptions = {}): Promise<boolean> {
    // The store's expiry is counted from before its write: so is the entry's, so that the
    // entry can never outlive the key.
    const expiresAt = options.ttlMs === undefined ? null : this.#clock.now() + options.ttlMs;
    const written = await this.#write(key, () => this.#inner.set(key, value, options));
    if (written) this.l1.write(key, { kind: "string", value: structuredClone(value), expiresAt }, expiresAt);
    return written;
  }

  async setEx(key: string, value: JsonValue, ttlMs: number): Promise<true> {
    await this.set(key, value, { ttlMs });
    return true;
  }

  async mSet(pairs: Record<string, JsonValue>, options: { ttlMs?: number } = {}): Promise<true> {
    const keys = Object.keys(pairs);
    for (const key of keys) this.l1.write(key, undefined);
    try {
      await this.#inner.mSet(pairs, options);
    } finally {
      for (const key of keys) this.l1.write(key, undefined);
    }
    return true;
  }

  delete(key: string): Promise<number> {
    return this.#write(key, () => this.#inner.delete(key));
  }

  expire(key: string, ttlMs: number): Promise<boolean> {
    return this.#write(key, () => this.#inner.expire(key, ttlMs));
  }

  incr(key: string): Promise<number> {
    return this.#write(key, () => this.#inner.incr(key));
  }

  incrBy(key: string, by: number): Promise<number> {
    return this.#write(key, () => this.#inner.incrBy(key, by));
  }

  decr(key: string, by?: number): Promise<number> {
    return this.#write(key, () => this.#inner.decr(key, by));
  }

  hSet(key: string, fields: Record<string, JsonValue>): Promise<number> {
    return this.#write(key, () => this.#inner.hSet(key, fields));
  }

  hDel(key: string, fields: string[]): Promise<number> {
    return this.#write(key, () => this.#inner.hDel(key, fields));
  }

  hIncrBy(key: string, field: string, by: number): Promise<number> {
    return this.#write(key, () => this.#inner.hIncrBy(key, field, by));
  }

  ttl(key: string): Promise<number> {
    return this.#inner.ttl(key);
  }

  keys(options?: KeysOptions): Promise<KeysPage> {
    return this.#inner.keys(options);
  }

  lock(key: string, ttlMs: number): Promise<LockResult> {
    return this.#inner.lock(key, ttlMs);
  }

  unlock(key: string, token: string): Promise<boolean> {
    return this.#inner.unlock(key, token);
  }

  extend(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.#inner.extend(key, token, ttlMs);
  }

  sweep(): Promise<number> {
    return this.#inner.sweep();
  }

  ping(): Promise<void> {
    return this.#inner.ping();
  }

  async close(): Promise<void> {
    this.l1.clear();
    await this.#inner.close();
  }
}
