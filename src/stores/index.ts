import { BadRequestError } from "../core/errors.ts";
import { createDatabaseStore } from "./database.ts";
import { type CreateStoreOptions, isDatabaseUrl, isRedisUrl, openPortableStore } from "./portable.ts";
import { RedisStore } from "./redis-store.ts";
import type { Store } from "./types.ts";

export { createDatabaseStore, type DatabaseStoreOptions } from "./database.ts";
export {
  type CreateMemoryStoreOptions,
  type CreateStoreOptions,
  createHttpStore,
  createMemoryStore,
  escapeGlob,
  type HttpStoreOptions,
  KvBackedStore,
  type KvBackend,
  kvStoreBackend,
  type ListOptions,
  type ListPage,
  type Store,
  type StoreOptions,
} from "./portable.ts";
export { createRedisStore, RedisStore, type RedisStoreOptions } from "./redis-store.ts";

/**
 * Opens the `Store` a URL names, e.g. `createStore({ url: "file:./data/kv.db" })` for the
 * embedded SQLite store. Nothing connects until the first operation.
 */
export function createStore(options: CreateStoreOptions): Store {
  const portable = openPortableStore(options);
  if (portable !== undefined) return portable;
  const { url, token: _token, clock, ...rest } = options;
  if (isDatabaseUrl(url)) {
    return createDatabaseStore({ url, ...rest, ...(clock ? { clock } : {}) });
  }
  if (isRedisUrl(url)) return new RedisStore({ url, ...rest });
  // The URL may hold a password: name the schemes, not the URL.
  throw new BadRequestError(
    "store url must start with memory:, file:, postgres(ql)://, redis(s):// or http(s)://",
  );
}
