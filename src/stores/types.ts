import type { JsonValue } from "../core/types.ts";

/** Options of `Store.list`. */
export interface ListOptions {
  /** The cursor of the previous page; absent or null for the first page. */
  cursor?: string | null;
  /** Page size, 1…1000 (default 1000). */
  limit?: number;
}

/** One page of `Store.list`: keys without the store's `keyPrefix`; `cursor` null at the end. */
export interface ListPage {
  keys: string[];
  cursor: string | null;
}

/** Options every store factory accepts. */
export interface StoreOptions {
  /** Prepended to every key (and lock name), so several stores can share one backend. */
  keyPrefix?: string;
}

/**
 * The simple key-value view that the cacher and applications program against, whatever the
 * backend (memory, embedded SQLite/PostgreSQL, a tierkv server over HTTP, Redis). Keys are
 * namespaced by the store's `keyPrefix`. A missing key reads as `undefined`, a stored JSON
 * `null` as `null`. `ttlMs` of `0` or absent means no expiry.
 */
export interface Store {
  /** Which backend this is, for logs and tests. */
  readonly name: string;
  get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined>;
  /** Reads several keys in one round trip; missing keys are absent from the map. */
  getMany<T extends JsonValue = JsonValue>(keys: string[]): Promise<Map<string, T>>;
  set(key: string, value: JsonValue, ttlMs?: number): Promise<void>;
  /** Writes several keys in one round trip, all with the same TTL. */
  setMany(entries: Map<string, JsonValue>, ttlMs?: number): Promise<void>;
  /** `true` when the key existed. */
  delete(key: string): Promise<boolean>;
  /** One page of the keys starting with `prefix` (taken literally), in byte order. */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
  /** Deletes every key of this store's namespace (and nothing else); answers how many. */
  clear(): Promise<number>;
  /**
   * Acquires the lock `name` for `ttlMs` if nobody holds it, atomically across every process
   * sharing the backend; the token to release it, or `null` when it is taken.
   */
  lock(name: string, ttlMs: number): Promise<string | null>;
  /** Releases a lock if `token` still holds it; a stale token changes nothing. */
  unlock(name: string, token: string): Promise<boolean>;
  close(): Promise<void>;
}
