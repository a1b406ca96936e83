import { mergeSyncTokens, type SyncToken } from "../core/sync-token.ts";
import { type Clock, type MaybePromise, type StoreKind, SYSTEM_CLOCK } from "../core/types.ts";
import { L1Cache } from "./l1-cache.ts";
import { snapshotCovers } from "./snapshot.ts";
import type { FieldSelection, KvStore, Snapshot, SnapshotSource } from "./types.ts";

/** A read, and whether L1 answered it. */
export interface Read<T> {
  value: T;
  hit: boolean;
}

/** Options of a read through the engine. */
export interface ReadOptions {
  /** Skip L1, read the database, and refresh L1 (`Cache-Control: no-cache`). */
  noCache?: boolean;
  /** Use only L1 entries read later than this instant (see `Engine.readAfter`). */
  after?: number;
}

/** Options of the L1 (SPEC §4). */
export interface L1Options {
  /** Longest life of an L1 entry in ms (default 5,000; 0 turns L1 off). */
  ttlMs?: number;
  /** Most L1 entries (default 10,000; 0 turns L1 off). */
  maxEntries?: number;
  clock?: Clock;
  /**
   * How far apart the clocks of instances sharing the database may be, in ms (default 1,000):
   * the margin by which a sync token from another instance is taken to be late (SPEC §8).
   */
  syncSkewMs?: number;
  /** Longest run of one Lua script in ms (default 5,000). */
  scriptTimeLimitMs?: number;
  /** The instance's name in sync tokens (default: a random one); an atomic section's engine shares its instance's. */
  instance?: string;
}

/** A random name of this instance, for the sync tokens it hands out. */
function instanceName(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(36).padStart(2, "0")).join("");
}

/**
 * What the commands run against: a store and the instance's L1 in front of it (SPEC §4).
 * Whole-key reads may be answered from L1 for at most the L1 TTL and never past the key's
 * expiry; a write through `write` drops the entries of the keys it names before and after it
 * runs, so the instance reads its own writes. With L1 off every read goes to the store.
 */
export class Engine {
  readonly kind: StoreKind;
  /** The store's own operations, with no L1 in front. */
  readonly store: KvStore & SnapshotSource;
  readonly l1: L1Cache<Snapshot>;
  readonly clock: Clock;
  /** The name in this instance's sync tokens. */
  readonly instance: string;
  readonly #syncSkewMs: number;
  /** Longest run of one Lua script, in ms. */
  readonly scriptTimeLimitMs: number;
  /** The latest write this instance has acknowledged (or that failed, having maybe landed). */
  #written: SyncToken;

  constructor(store: KvStore & SnapshotSource, options: L1Options = {}) {
    this.store = store;
    this.kind = store.kind;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.#syncSkewMs = options.syncSkewMs ?? 1_000;
    this.scriptTimeLimitMs = options.scriptTimeLimitMs ?? 5_000;
    this.instance = options.instance ?? instanceName();
    this.#written = { ms: 0, seq: 0, instance: this.instance };
    this.l1 = new L1Cache<Snapshot>({
      ttlMs: options.ttlMs ?? 5_000,
      maxEntries: options.maxEntries ?? 10_000,
      clock: this.clock,
    });
  }

  /**
   * The sync token to answer a request with (SPEC §8): this instance's writes so far, merged
   * with the token the request sent.
   */
  syncToken(sent?: SyncToken): SyncToken {
    return mergeSyncTokens(sent, this.#written) ?? this.#written;
  }

  /**
   * The instant after which an L1 entry must have been read to answer a request that sent
   * `sent`: none for no token or one of this instance alone (its L1 holds its own writes);
   * otherwise the token's time, plus the clock skew allowed between instances.
   */
  readAfter(sent: SyncToken | undefined): number | undefined {
    if (sent === undefined || sent.instance === this.instance) return undefined;
    return sent.ms + this.#syncSkewMs;
  }

  /**
   * The snapshot of one key with the given hash fields: from L1 at once when it holds them,
   * from the store otherwise.
   */
  read(
    key: string,
    fields: FieldSelection = "none",
    options: ReadOptions = {},
  ): MaybePromise<Read<Snapshot>> {
    if (!options.noCache) {
      const cached = this.l1.get(key, options.after);
      if (cached !== undefined && snapshotCovers(cached, fields)) return { value: cached, hit: true };
    }
    return this.#readStore(key, fields);
  }

  async #readStore(key: string, fields: FieldSelection): Promise<Read<Snapshot>> {
    const ticket = this.l1.ticket();
    const snapshot = await this.store.inspect(key, fields);
    this.l1.fill(key, snapshot, ticket, snapshot.kind === "none" ? null : snapshot.expiresAt);
    return { value: snapshot, hit: false };
  }

  /**
   * Snapshots of many keys (hashes without fields); a hit, answered at once, only when L1 holds
   * every key.
   */
  readMany(keys: string[], options: ReadOptions = {}): MaybePromise<Read<Map<string, Snapshot>>> {
    const out = new Map<string, Snapshot>();
    const missing: string[] = [];
    for (const key of keys) {
      const cached = options.noCache ? undefined : this.l1.get(key, options.after);
      if (cached === undefined) missing.push(key);
      else out.set(key, cached);
    }
    if (missing.length === 0) return { value: out, hit: true };
    return this.#readManyStore(out, missing);
  }

  async #readManyStore(out: Map<string, Snapshot>, missing: string[]): Promise<Read<Map<string, Snapshot>>> {
    const ticket = this.l1.ticket();
    const found = await this.store.inspectMany(missing);
    for (const [key, snapshot] of found) {
      out.set(key, snapshot);
      this.l1.fill(key, snapshot, ticket, snapshot.kind === "none" ? null : snapshot.expiresAt);
    }
    return { value: out, hit: false };
  }

  /**
   * Runs a write of `keys`, dropping their L1 entries before and after it. `keep` may name what
   * the key now holds (with the expiry it was given before the write began), so the next read
   * is a hit; the entry then never outlives the key however long the write took.
   */
  async write<T>(
    keys: readonly string[],
    run: () => MaybePromise<T>,
    keep?: (result: T) => { key: string; snapshot: Snapshot; expiresAt: number | null } | undefined,
  ): Promise<T> {
    const startedAt = this.clock.now();
    for (const key of keys) this.l1.write(key, undefined);
    let result: T;
    try {
      result = await run();
    } finally {
      for (const key of keys) this.l1.write(key, undefined);
      this.#acknowledge();
    }
    const kept = keep?.(result);
    if (kept !== undefined) this.l1.write(kept.key, kept.snapshot, kept.expiresAt, startedAt);
    return result;
  }

  /** Moves this instance's sync token past a write that has just ended. */
  #acknowledge(): void {
    const now = Math.floor(this.clock.now());
    const last = this.#written;
    this.#written =
      now > last.ms ? { ms: now, seq: 0, instance: this.instance } : { ...last, seq: last.seq + 1 };
  }

  /** Sweeps run and rows they deleted, since start. */
  readonly sweeps = { runs: 0, rows: 0 };

  /** Deletes expired keys and locks; answers how many rows went. */
  async sweep(): Promise<number> {
    const removed = await this.store.sweep();
    this.sweeps.runs++;
    this.sweeps.rows += removed;
    return removed;
  }

  /** Deletes every key; this instance's L1 is emptied before and after. */
  async flush(): Promise<void> {
    this.l1.clear();
    try {
      await this.store.flush();
    } finally {
      this.l1.clear();
      this.#acknowledge();
    }
  }

  /** Resolves when the database answers; rejects with `UnavailableError` otherwise. */
  ping(): Promise<void> {
    return this.store.ping();
  }

  async close(): Promise<void> {
    this.l1.clear();
    await this.store.close();
  }
}
