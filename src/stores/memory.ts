import { MemoryStore } from "../store/memory-store.ts";
import type { Clock } from "../store/types.ts";
import { KvBackedStore, kvStoreBackend } from "./kv-backed-store.ts";
import type { Store, StoreOptions } from "./types.ts";

/** Options of `createMemoryStore`. */
export interface MemoryStoreOptions extends StoreOptions {
  /** Share one `MemoryStore` between namespaces; it stays open when this store closes. */
  store?: MemoryStore;
  clock?: Clock;
}

/** A `Store` in this process's memory (tests, scripts, single-process caches). */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const kv = options.store ?? new MemoryStore(options.clock ? { clock: options.clock } : {});
  return new KvBackedStore({
    name: "memory",
    backend: kvStoreBackend(kv, options.store === undefined),
    ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}),
  });
}
