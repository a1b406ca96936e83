import { BadRequestError } from "../core/errors.ts";
import type { Clock } from "../core/types.ts";
import { createDatabaseStore } from "./database.ts";
import { createHttpStore } from "./http.ts";
import { createMemoryStore } from "./memory.ts";
import { RedisStore } from "./redis-store.ts";
import type { Store, StoreOptions } from "./types.ts";

export { escapeGlob } from "../core/glob.ts";
export { createDatabaseStore, type DatabaseStoreOptions } from "./database.ts";
export { createHttpStore, type HttpStoreOptions } from "./http.ts";
export { KvBackedStore, type KvBackend, kvStoreBackend } from "./kv-backed-store.ts";
export { type CreateMemoryStoreOptions, createMemoryStore } from "./memory.ts";
export { createRedisStore, RedisStore, type RedisStoreOptions } from "./redis-store.ts";
export type { ListOptions, ListPage, Store, StoreOptions } from "./types.ts";

/** Options of `createStore`. */
export interface CreateStoreOptions extends StoreOptions {
  /**
   * Which backend, by scheme: `memory:`; `file:…` (embedded SQLite) or `postgres(ql)://…`
   * (embedded PostgreSQL); `redis://` / `rediss://`; `http://` / `https://` (a tierkv server).
   */
  url: string;
  /** Bearer token for a tierkv server. */
  token?: string;
  /** Time source of the memory and embedded stores (fake clocks in tests). */
  clock?: Clock;
}

/**
 * Opens the `Store` a URL names, e.g. `createStore({ url: "file:./data/kv.db" })` for the
 * embedded SQLite store. Nothing connects until the first operation.
 */
export function createStore(options: CreateStoreOptions): Store {
  const { url, token, clock, ...rest } = options;
  if (url === "memory:") return createMemoryStore({ ...rest, ...(clock ? { clock } : {}) });
  if (url.startsWith("file:") || /^postgres(ql)?:\/\//.test(url)) {
    return createDatabaseStore({ url, ...rest, ...(clock ? { clock } : {}) });
  }
  if (/^rediss?:\/\//.test(url)) return new RedisStore({ url, ...rest });
  if (/^https?:\/\//.test(url))
    return createHttpStore({ url, ...rest, ...(token !== undefined ? { token } : {}) });
  // The URL may hold a password: name the schemes, not the URL.
  throw new BadRequestError(
    "store url must start with memory:, file:, postgres(ql)://, redis(s):// or http(s)://",
  );
}
