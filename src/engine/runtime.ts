import type { Config } from "../core/config.ts";
import type { Clock } from "../core/types.ts";
import { Engine } from "./engine.ts";
import type { KvStore, SnapshotSource } from "./types.ts";

/** What one instance (a Node process, a warm function, an isolate) shares across requests. */
export interface Runtime {
  config: Config;
  engine: Engine;
}

/**
 * Builds the instance's engine: the store behind the L1 cache of SPEC §4, unless `KV_L1_TTL_MS`
 * or `KV_L1_MAX_ENTRIES` is 0. (Each platform opens its own store: a Worker bundle must not
 * carry the Node drivers.)
 */
export function createRuntime(config: Config, store: KvStore & SnapshotSource, clock?: Clock): Runtime {
  const engine = new Engine(store, {
    ttlMs: config.l1TtlMs,
    maxEntries: config.l1MaxEntries,
    syncSkewMs: config.syncSkewMs,
    scriptTimeLimitMs: config.scriptTimeLimitMs,
    ...(clock !== undefined ? { clock } : {}),
  });
  return { config, engine };
}
