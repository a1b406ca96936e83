import { BadRequestError } from "../core/errors.ts";
import type { Clock } from "../core/types.ts";
import { createHttpStore } from "./http.ts";
import { createMemoryStore } from "./memory.ts";
import type { Store, StoreOptions } from "./types.ts";

/**
 * The stores that need no server dependency (`tierkv-client/stores`): memory and a tierkv server
 * over HTTP. Nothing here imports Prisma, a database driver or ioredis, so a browser or edge
 * bundle of it holds none of them. The embedded databases and Redis are `tierkv/stores`'s
 * `createStore` (and `tierkv-client/redis` for Redis alone).
 */
export { escapeGlob } from "../core/glob.ts";
export { createHttpStore, type HttpStoreOptions } from "./http.ts";
export { KvBackedStore, type KvBackend, kvStoreBackend } from "./kv-backed-store.ts";
export { type CreateMemoryStoreOptions, createMemoryStore } from "./memory.ts";
export type { ListOptions, ListPage, Store, StoreOptions } from "./types.ts";

/** Options of `createStore`. */
export interface CreateStoreOptions extends StoreOptions {
  /**
   * Which backend, by scheme: `memory:`; `file:…` (embedded SQLite) or `postgres(ql)://…`
   * (embedded PostgreSQL); `redis://` / `rediss://`; `http://` / `https://` (a tierkv server).
   * `tierkv-client/stores` opens `memory:` and `http(s)://` only.
   */
  url: string;
  /** Bearer token for a tierkv server. */
  token?: string;
  /** Time source of the memory and embedded stores (fake clocks in tests). */
  clock?: Clock;
}

/** Whether a store URL names an embedded database: SQLite (`file:`) or PostgreSQL. */
export function isDatabaseUrl(url: string): boolean {
  return url.startsWith("file:") || /^postgres(ql)?:\/\//.test(url);
}

/** Whether a store URL names a Redis server. */
export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\//.test(url);
}

/** Opens a `memory:` or `http(s)://` store, or answers undefined for another scheme. */
export function openPortableStore(options: CreateStoreOptions): Store | undefined {
  const { url, token, clock, ...rest } = options;
  if (url === "memory:") return createMemoryStore({ ...rest, ...(clock ? { clock } : {}) });
  if (/^https?:\/\//.test(url))
    return createHttpStore({ url, ...rest, ...(token !== undefined ? { token } : {}) });
  return undefined;
}

/**
 * Opens the `Store` a URL names: `memory:` or a tierkv server (`http(s)://`, with `token`).
 * Nothing connects until the first operation.
 */
export function createStore(options: CreateStoreOptions): Store {
  const store = openPortableStore(options);
  if (store !== undefined) return store;
  const { url } = options;
  // The URL may hold a password: name the schemes, not the URL.
  if (isDatabaseUrl(url)) {
    throw new BadRequestError(
      'embedded SQLite and PostgreSQL stores run the server\'s engine: use createStore from "tierkv/stores"',
    );
  }
  if (isRedisUrl(url)) {
    throw new BadRequestError('Redis stores need ioredis: use createRedisStore from "tierkv-client/redis"');
  }
  throw new BadRequestError("store url must start with memory: or http(s)://");
}
