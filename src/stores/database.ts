import type { Clock } from "../core/types.ts";
import { openPrismaStore } from "../engine/sql/open.ts";
import type { PrismaStore } from "../engine/sql/prisma-store.ts";
import { KvBackedStore, kvStoreBackend } from "./kv-backed-store.ts";
import type { Store, StoreOptions } from "./types.ts";

/** Options of `createDatabaseStore`. */
export type DatabaseStoreOptions = StoreOptions & { clock?: Clock } & (
    | { /** `file:…` (SQLite) or `postgres(ql)://…` (PostgreSQL). */ url: string }
    | { /** Share an open `PrismaStore`; it stays open when this store closes. */ store: PrismaStore }
  );

/**
 * A `Store` embedded in this process on SQLite or PostgreSQL: the same `PrismaStore` code as
 * the server, without HTTP. The database is migrated on first use.
 */
export function createDatabaseStore(options: DatabaseStoreOptions): Store {
  const owned = !("store" in options);
  const kv =
    "store" in options
      ? options.store
      : openPrismaStore({ url: options.url, ...(options.clock ? { clock: options.clock } : {}) });
  return new KvBackedStore({
    name: kv.kind,
    backend: kvStoreBackend(kv, owned),
    ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}),
  });
}
