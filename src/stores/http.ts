import { type ClientOptions, KvClient } from "../client/kv-client.ts";
import { KvBackedStore } from "./kv-backed-store.ts";
import type { Store, StoreOptions } from "./types.ts";

/** Options of `createHttpStore`: a client, or the options to make one. */
export type HttpStoreOptions = StoreOptions & ({ client: KvClient } | ClientOptions);

/** A `Store` on a tierkv server, through the HTTP client. */
export function createHttpStore(options: HttpStoreOptions): Store {
  const client = "client" in options ? options.client : new KvClient(options);
  return new KvBackedStore({
    name: "http",
    backend: {
      get: (key) => client.get(key),
      set: (key, value, o) => client.set(key, value, o),
      delete: (key) => client.delete(key),
      mGet: (keys) => client.mGet(keys),
      mSet: (pairs, o) => client.mSet(pairs, o),
      keys: (o) => client.keys(o),
      // Tokens stay with the caller, not in the client's own lock table: two cachers sharing
      // one client must never release each other's locks.
      acquireLock: async (name, ttlMs) => (await client.tryLock(name, ttlMs)).token,
      releaseLock: (name, token) => client.unlockWithToken(name, token),
      close: () => client.close(),
    },
    ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}),
  });
}
