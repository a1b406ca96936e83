/**
 * tierkv embedded: the stores, the L1 cache, the HTTP app and the Node server, for code that
 * runs tierkv in-process. The HTTP client is `tierkv/client`; the simple stores and the cacher
 * are `tierkv/stores` and `tierkv/cacher`.
 */
export { type Config, ConfigError, loadConfig } from "./config.ts";
export { migrate } from "./db/migrate.ts";
export { type OpenOptions, openPrismaStore } from "./db/open.ts";
export * from "./errors.ts";
export { type AppOptions, BASE_PATH, createApp } from "./http/app.ts";
export { createRuntime, type Runtime } from "./runtime.ts";
export { type RunningServer, startServer } from "./server.ts";
export { CachedStore, type CachedStoreOptions } from "./store/cached-store.ts";
export { MemoryStore, type MemoryStoreOptions } from "./store/memory-store.ts";
export { PrismaStore, type PrismaStoreOptions } from "./store/prisma-store.ts";
export type {
  Clock,
  JsonValue,
  KeysOptions,
  KeysPage,
  KvStore,
  LockResult,
  SetOptions,
  StoreKind,
} from "./store/types.ts";
