import type { JsonValue, KeysOptions, KeysPage, LockResult, SetOptions, StoreKind } from "../core/types.ts";

/**
 * The operations of tierkv, as every backend implements them. A missing key reads as
 * `undefined` (a stored JSON `null` reads as `null`). Inputs are trusted: validation happens
 * at the edge (HTTP schemas, client SDK).
 */
export interface KvStore {
  readonly kind: StoreKind;
  get(key: string): Promise<JsonValue | undefined>;
  set(key: string, value: JsonValue, options?: SetOptions): Promise<boolean>;
  setEx(key: string, value: JsonValue, ttlMs: number): Promise<true>;
  delete(key: string): Promise<number>;
  exists(key: string): Promise<boolean>;
  /** Remaining milliseconds; -1 when the key has no expiry; -2 when it is missing. */
  ttl(key: string): Promise<number>;
  expire(key: string, ttlMs: number): Promise<boolean>;
  incr(key: string): Promise<number>;
  incrBy(key: string, by: number): Promise<number>;
  decr(key: string, by?: number): Promise<number>;
  /** Sets the given fields; answers how many of them were new. */
  hSet(key: string, fields: Record<string, JsonValue>): Promise<number>;
  hGet(key: string, field: string): Promise<JsonValue | undefined>;
  hGetAll(key: string): Promise<Record<string, JsonValue>>;
  hDel(key: string, fields: string[]): Promise<number>;
  hIncrBy(key: string, field: string, by: number): Promise<number>;
  lock(key: string, ttlMs: number): Promise<LockResult>;
  unlock(key: string, token: string): Promise<boolean>;
  extend(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Writes all pairs or none, each replacing the key's type and TTL. */
  mSet(pairs: Record<string, JsonValue>, options?: { ttlMs?: number }): Promise<true>;
  /** Answers only the keys that hold a live string. */
  mGet(keys: string[]): Promise<Record<string, JsonValue>>;
  keys(options?: KeysOptions): Promise<KeysPage>;
  /** Deletes expired keys and locks; answers how many rows went. */
  sweep(): Promise<number>;
  /** Deletes every key of both types (locks, in their own keyspace, stay). */
  flush(): Promise<void>;
  /** The bodies of the cached Lua scripts among `shas` (SHA1, lower-case hex), by SHA1. */
  scripts(shas: string[]): Promise<Map<string, string>>;
  /** Caches a script's body under its SHA1, for EVALSHA on any instance; a cached one stays. */
  saveScript(sha: string, body: string): Promise<void>;
  /** Empties the script cache (SCRIPT FLUSH). */
  flushScripts(): Promise<void>;
  /**
   * Runs `fn` as one transaction on the store it is given: its reads and writes of `keys` never
   * interleave with another atomic section over any of those keys, on any instance sharing the
   * database, nor with single operations on keys that exist. A failure of `fn` undoes its
   * writes where the database can (SQLite, PostgreSQL; not D1, nor the memory store).
   */
  atomic<T>(keys: readonly string[], fn: (tx: KvStore & SnapshotSource) => Promise<T>): Promise<T>;
  /**
   * Whether `incrBy` calls made one after another in one turn of the event loop, without waiting
   * in between, take effect in the order they were made, each answering the value it would have
   * had alone in that order (a Redis pipeline may then send a run of them on one key at once).
   */
  readonly incrementsInCallOrder?: boolean;
  /** Resolves when the backend answers; rejects with `UnavailableError` otherwise. */
  ping(): Promise<void>;
  /** Round trips to the database (statements and transactions) and the seconds they took in all. */
  roundTrips?(): { count: number; seconds: number };
  /** The connection pool's use, for metrics, where the backend has a pool. */
  pool?(): { total: number; idle: number; waiting: number } | undefined;
  close(): Promise<void>;
}

/** What one key holds, with its expiry (epoch ms, null for none): what the L1 cache keeps. */
/** Values are kept as the JSON text the store holds: a read answers it without parsing it. */
export type Snapshot =
  | { kind: "none" }
  | { kind: "string"; json: string; expiresAt: number | null }
  | {
      kind: "hash";
      expiresAt: number | null;
      /** The fields read, as JSON text; a requested field that is absent maps to undefined. */
      fields: Map<string, string | undefined>;
      /** Whether `fields` holds every field of the hash. */
      complete: boolean;
    };

/** Which hash fields `inspect` reads: none, the named ones, or all. */
export type FieldSelection = "none" | "all" | string[];

/** A store that can read a key's whole state in one round trip (what a cache in front needs). */
export interface SnapshotSource {
  inspect(key: string, fields?: FieldSelection): Promise<Snapshot>;
  /** One round trip for many keys; hashes come back without fields. */
  inspectMany(keys: string[]): Promise<Map<string, Snapshot>>;
}
