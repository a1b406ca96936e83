import { escapeGlob } from "../core/glob.ts";
import { MAX_BATCH } from "../core/limits.ts";
import type { JsonValue, KeysOptions, KeysPage, SetOptions } from "../core/types.ts";
import { checkKey, checkValue } from "../core/validate.ts";
import type { KvStore } from "../engine/types.ts";
import { storeTtl } from "./ttl.ts";
import type { ListOptions, ListPage, Store, StoreOptions } from "./types.ts";

/**
 * What a `KvBackedStore` needs of a tierkv backend: the string operations of `KvStore`, which
 * `MemoryStore`, `PrismaStore` and the HTTP `KvClient` all have, plus token-based locks.
 */
export interface KvBackend {
  get(key: string): Promise<JsonValue | undefined>;
  set(key: string, value: JsonValue, options?: SetOptions): Promise<boolean>;
  delete(key: string): Promise<number>;
  mGet(keys: string[]): Promise<Record<string, JsonValue>>;
  mSet(pairs: Record<string, JsonValue>, options?: { ttlMs?: number }): Promise<true>;
  keys(options?: KeysOptions): Promise<KeysPage>;
  acquireLock(name: string, ttlMs: number): Promise<string | null>;
  releaseLock(name: string, token: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Options of `KvBackedStore`. */
export interface KvBackedStoreOptions extends StoreOptions {
  name: string;
  backend: KvBackend;
}

// Deletes run this many at a time, so clearing a large namespace over HTTP stays polite.
const DELETE_CONCURRENCY = 32;

/**
 * Adapts a `KvStore` (memory or Prisma) to a `KvBackend`; `owned: false` leaves the store open
 * on `close()`, for a store shared by several namespaces.
 */
export function kvStoreBackend(store: KvStore, owned = true): KvBackend {
  return {
    get: (key) => store.get(key),
    set: (key, value, options) => store.set(key, value, options),
    delete: (key) => store.delete(key),
    mGet: (keys) => store.mGet(keys),
    mSet: (pairs, options) => store.mSet(pairs, options),
    keys: (options) => store.keys(options),
    acquireLock: async (name, ttlMs) => (await store.lock(name, ttlMs)).token,
    releaseLock: (name, token) => store.unlock(name, token),
    close: async () => {
      if (owned) await store.close();
    },
  };
}

/**
 * A `Store` over any tierkv backend: the one implementation shared by the memory, embedded
 * database and HTTP stores, so they cannot drift apart. Locks use tierkv's own lock keyspace.
 */
export class KvBackedStore implements Store {
  readonly name: string;
  readonly #backend: KvBackend;
  readonly #prefix: string;

  constructor(options: KvBackedStoreOptions) {
    this.name = options.name;
    this.#backend = options.backend;
    this.#prefix = options.keyPrefix ?? "";
  }

  /** The backend key of `key`, checked as the server would check it (SPEC §1). */
  #key(key: string): string {
    return checkKey(this.#prefix + key);
  }

  async get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined> {
    return (await this.#backend.get(this.#key(key))) as T | undefined;
  }

  async getMany<T extends JsonValue = JsonValue>(keys: string[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    for (const batch of chunks(unique(keys), MAX_BATCH)) {
      const found = await this.#backend.mGet(batch.map((k) => this.#prefix + k));
      for (const key of batch) {
        const full = this.#prefix + key;
        if (Object.hasOwn(found, full)) out.set(key, found[full] as T);
      }
    }
    return out;
  }

  async set(key: string, value: JsonValue, ttlMs?: number): Promise<void> {
    const ttl = storeTtl(ttlMs);
    checkValue(value);
    await this.#backend.set(this.#key(key), value, ttl === undefined ? {} : { ttlMs: ttl });
  }

  async setMany(entries: Map<string, JsonValue>, ttlMs?: number): Promise<void> {
    const ttl = storeTtl(ttlMs);
    // Every entry is checked before the first chunk goes out: a bad one writes nothing.
    for (const [key, value] of entries) {
      this.#key(key);
      checkValue(value, `value of ${JSON.stringify(key)}`);
    }
    for (const batch of chunks([...entries], MAX_BATCH)) {
      const pairs = Object.create(null) as Record<string, JsonValue>;
      for (const [key, value] of batch) pairs[this.#prefix + key] = value;
      await this.#backend.mSet(pairs, ttl === undefined ? {} : { ttlMs: ttl });
    }
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#backend.delete(this.#key(key))) > 0;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const page = await this.#backend.keys({
      pattern: `${escapeGlob(this.#prefix + prefix)}*`,
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
      ...(options.cursor != null ? { cursor: options.cursor } : {}),
    });
    return { keys: page.keys.map((k) => k.slice(this.#prefix.length)), cursor: page.cursor };
  }

  async clear(): Promise<number> {
    let removed = 0;
    let cursor: string | null = null;
    do {
      const page: ListPage = await this.list("", { cursor, limit: MAX_BATCH });
      for (const batch of chunks(page.keys, DELETE_CONCURRENCY)) {
        const results = await Promise.all(batch.map((key) => this.delete(key)));
        removed += results.filter(Boolean).length;
      }
      cursor = page.cursor;
    } while (cursor !== null);
    return removed;
  }

  async lock(name: string, ttlMs: number): Promise<string | null> {
    return this.#backend.acquireLock(this.#prefix + name, ttlMs);
  }

  async unlock(name: string, token: string): Promise<boolean> {
    return this.#backend.releaseLock(this.#prefix + name, token);
  }

  async close(): Promise<void> {
    await this.#backend.close();
  }
}

/** `items` in consecutive slices of at most `size`. */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function unique(keys: string[]): string[] {
  return [...new Set(keys)];
}
