/**
 * tierkv embedded: the engine (stores and the L1), the command units, the HTTP app and the Node
 * server, for code that runs tierkv in-process. The HTTP client is `tierkv/client`; the simple
 * stores and the cacher are `tierkv/stores` and `tierkv/cacher`.
 */
export { type RunningServer, startServer } from "./adapters/node-server.ts";
export { CachedStore, type CachedStoreOptions } from "./commands/cached-store.ts";
export { COMMANDS, type Command, execute, type Outcome } from "./commands/index.ts";
export { BASE_PATH, ENDPOINT_NAMES, type EndpointName, type EndpointSpec, NATIVE_API } from "./core/api.ts";
export { type Config, loadConfig } from "./core/config.ts";
export * from "./core/errors.ts";
export type {
  Clock,
  JsonValue,
  KeysOptions,
  KeysPage,
  LockResult,
  SetOptions,
  StoreKind,
} from "./core/types.ts";
export { Engine, type L1Options, type Read } from "./engine/engine.ts";
export { MemoryStore, type MemoryStoreOptions } from "./engine/memory-store.ts";
export { createRuntime, type Runtime } from "./engine/runtime.ts";
export { migrate } from "./engine/sql/migrate.ts";
export { type OpenOptions, openPrismaStore } from "./engine/sql/open.ts";
export { PrismaStore, type PrismaStoreOptions } from "./engine/sql/prisma-store.ts";
export type { KvStore } from "./engine/types.ts";
export { type AppOptions, createApp } from "./http/app.ts";
