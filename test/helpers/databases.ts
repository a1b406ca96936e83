import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { inject } from "vitest";

/** The PostgreSQL server of the suites as the global setup found it, or null when it is not there (never under CI=true). */
export const PG_URL = inject("pgUrl");

/** A fresh schema's URL on the test PostgreSQL: each suite gets its own empty database. */
export function freshPgUrl(label: string): string {
  if (PG_URL === null) throw new Error("PostgreSQL is not available");
  const schema = `t_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const url = new URL(PG_URL);
  url.searchParams.set("schema", schema);
  return url.toString();
}

/** A fresh PostgreSQL schema's URL and a function dropping that schema. */
export function freshPgSchema(label: string): { url: string; drop: () => Promise<void> } {
  const url = freshPgUrl(label);
  return { url, drop: () => dropPgSchema(url) };
}

/** Drops the schema a `freshPgUrl` named. */
export async function dropPgSchema(url: string): Promise<void> {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema");
  parsed.searchParams.delete("schema");
  if (schema === null) return;
  const client = new pg.Client({ connectionString: parsed.toString() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** A fresh SQLite database file (migrated on first use) in a temporary folder of its own. */
export interface TempSqlite {
  /** `file:<path>`, for `DATABASE_URL`. */
  url: string;
  path: string;
  dir: string;
  /** Removes the folder and the database in it. */
  remove(): void;
}

/** A new temporary folder and an SQLite database file inside it. */
export function tempSqlite(): TempSqlite {
  const dir = mkdtempSync(join(tmpdir(), "tierkv-"));
  const path = join(dir, "kv.db");
  return { url: `file:${path}`, path, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A clock the test moves by hand. */
export function fakeClock(start = 1_800_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** The Redis of the suites that compare with or store in Redis; `TEST_REDIS_URL` overrides it. */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

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

/** A fresh database for a suite, and how to drop it. */
export interface FreshDatabase {
  url: string;
  drop: () => Promise<void> | void;
}

/** The SQL databases a suite runs on, by name: SQLite always, PostgreSQL when it answers. */
export function sqlDatabases(label: string): [string, () => FreshDatabase][] {
  const out: [string, () => FreshDatabase][] = [
    [
      "SQLite",
      () => {
        const db = tempSqlite();
        return { url: db.url, drop: db.remove };
      },
    ],
  ];
  if (PG_URL !== null) {
    out.push([
      "PostgreSQL",
      () => {
        const url = freshPgUrl(label);
        return { url, drop: () => dropPgSchema(url) };
      },
    ]);
  }
  return out;
}
