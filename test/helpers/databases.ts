import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { inject } from "vitest";

/** The PostgreSQL server of the suites, or null when it is not there (never under CI=true). */
export const PG_URL = inject("pgUrl");

/** A fresh schema's URL on the test PostgreSQL: each suite gets its own empty database. */
export function freshPgUrl(label: string): string {
  if (PG_URL === null) throw new Error("PostgreSQL is not available");
  const schema = `t_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const url = new URL(PG_URL);
  url.searchParams.set("schema", schema);
  return url.toString();
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

/** A new temporary folder and a `file:` URL of an SQLite database inside it. */
export function freshSqliteUrl(): { url: string; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tierkv-"));
  return {
    url: `file:${join(dir, "kv.db")}`,
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
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
