import type { Config } from "./config.ts";
import { openPrismaStore } from "./db/open.ts";
import { CachedStore } from "./store/cached-store.ts";
import type { KvStore, SnapshotSource } from "./store/types.ts";

/** What one instance (a Node process, a warm function, an isolate) shares across requests. */
export interface Runtime {
  config: Config;
  store: KvStore & SnapshotSource;
}

/**
 * Builds the instance's store: Prisma on the configured database, behind the L1 cache unless
 * `KV_L1_TTL_MS` is 0. Nothing touches the database until the first request.
 */
export function createRuntime(config: Config, inner?: KvStore & SnapshotSource): Runtime {
  return { config, store: withL1(config, inner ?? openPrismaStore({ url: config.databaseUrl })) };
}

/** The store behind the L1 of SPEC §4, unless the configuration turns L1 off. */
export function withL1(config: Config, base: KvStore & SnapshotSource): KvStore & SnapshotSource {
  return config.l1TtlMs > 0 && config.l1MaxEntries > 0
    ? new CachedStore(base, { ttlMs: config.l1TtlMs, maxEntries: config.l1MaxEntries })
    : base;
}
