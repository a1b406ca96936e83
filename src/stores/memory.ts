import type { Clock } from "../core/types.ts";
import { MemoryStore } from "../engine/memory-store.ts";
import { KvBackedStore, kvStoreBackend } from "./kv-backed-store.ts";
import type { Store, StoreOptions } from "./types.ts";

/** Options of `createMemoryStore` (the engine's own `MemoryStore` takes `MemoryStoreOptions`). */
export interface CreateMemoryStoreOptions extends StoreOptions {
  /** Share one `MemoryStore` between namespaces; it stays open when this store closes. */
  store?: MemoryStore;
  clock?: Clock;
}

/** A `Store` in this process's memory (tests, scripts, single-process caches). */
export function createMemoryStore(options: CreateMemoryStoreOptions = {}): Store {
  const kv = options.store ?? new MemoryStore(options.clock ? { clock: options.clock } : {});
  return new KvBackedStore({
    name: "memory",
    backend: kvStoreBackend(kv, options.store === undefined),
    ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}),
  });
}
