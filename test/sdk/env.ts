import { Redis } from "ioredis";
import pg from "pg";
import { type RunningServer, startServer } from "../../src/adapters/node-server.ts";
import { loadConfig } from "../../src/core/config.ts";
import { createRuntime } from "../../src/engine/runtime.ts";
import type { KvStore, SnapshotSource } from "../../src/engine/types.ts";
import { dropPgSchema, fakeClock, freshPgUrl, freshSqliteUrl } from "../helpers/databases.ts";

// The SDK suites stand alone: they find their services themselves rather than through the
// main suites' helpers, and skip a backend that is not running (unless CI=true requires it).

/** The PostgreSQL of the SDK suites. */
export const PG_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
/** The Redis of the SDK suites. */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** The bearer token of the servers the SDK suites start. */
export const TEST_TOKEN = "sdk-test-token-0123456789";

/** Whether PostgreSQL answers (a failure under CI=true throws instead). */
export async function hasPostgres(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch (error) {
    if (process.env.CI === "true") throw error;
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Whether Redis answers (a failure under CI=true throws instead). */
export async function hasRedis(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch (error) {
    if (process.env.CI === "true") throw error;
    return false;
  } finally {
    redis.disconnect();
  }
}

/** A unique suffix for keys, prefixes and schema names. */
export function uniqueId(): string {
  return `${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
}

/** A fresh PostgreSQL schema URL and a function dropping that schema. */
export function freshPgSchema(label: string): { url: string; drop: () => Promise<void> } {
  const url = freshPgUrl(`sdk_${label}`);
  return { url, drop: () => dropPgSchema(url) };
}

/** A fresh SQLite file URL in a temporary folder, and a function removing the folder. */
export function freshSqlite(): { url: string; path: string; cleanup: () => void } {
  const db = freshSqliteUrl();
  return { ...db, path: db.url.slice("file:".length) };
}

export { fakeClock };

/**
 * Starts the real Node server (`startServer`) on a free loopback port with `TEST_TOKEN`,
 * over `store` when given (e.g. one with a fake clock) or else the database `env` names.
 */
export async function startKvServer(
  options: { store?: KvStore & SnapshotSource; env?: Record<string, string> } = {},
): Promise<RunningServer> {
  const config = loadConfig({ KV_TOKEN: TEST_TOKEN, PORT: "0", KV_SWEEP_INTERVAL_MS: "0", ...options.env });
  return startServer(config, createRuntime(config, options.store));
}
