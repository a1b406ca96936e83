import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { MIGRATIONS } from "../../generated/migrations.ts";
import { APPLIED_MIGRATIONS, POSTGRESQL_LEDGER, SQLITE_LEDGER } from "./ledger.ts";
import type { DatabaseTarget } from "./url.ts";

/** The names of the migrations a run applied (empty when the database was up to date). */
export type MigrationResult = string[];

/** Prisma's own advisory lock key, so that `prisma migrate deploy` and this runner exclude each other. */
const PRISMA_ADVISORY_LOCK = 72707369;

function checksum(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

/**
 * Applies the checked-in migrations that the database lacks, recording each in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does. Idempotent, and safe when
 * several instances start at once: a write transaction on SQLite, an advisory lock on PostgreSQL.
 */
export async function migrate(target: DatabaseTarget): Promise<MigrationResult> {
  return target.provider === "sqlite"
    ? migrateSqlite(target.path)
    : migratePostgres(target.url, target.schema);
}

async function migrateSqlite(path: string): Promise<MigrationResult> {
  const { default: Database } = await import("better-sqlite3");
  if (path !== ":memory:") ensureDir(dirname(path));
  const db = new Database(path, { timeout: 15_000 });
  try {
    // WAL lets readers and one writer work at once, and is a property of the file: set once here.
    db.pragma("journal_mode = WAL");
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(SQLITE_LEDGER);
      const applied = new Set(db.prepare(APPLIED_MIGRATIONS).pluck().all() as string[]);
      const done: string[] = [];
      for (const migration of MIGRATIONS.sqlite) {
        if (applied.has(migration.name)) continue;
        const startedAt = Date.now();
        db.exec(migration.sql);
        db.prepare(
          `INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count")
           VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
        ).run(randomUUID(), checksum(migration.sql), Date.now(), migration.name, startedAt);
        done.push(migration.name);
      }
      db.exec("COMMIT");
      return done;
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw error;
    }
  } finally {
    db.close();
  }
}

/** Creates a folder and its missing parents, one level at a time (a recursive mkdir can spin forever under /proc). */
function ensureDir(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) ensureDir(parent);
  mkdirSync(dir);
}

async function migratePostgres(url: string, schema: string | undefined): Promise<MigrationResult> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query("BEGIN");
    try {
      await client.query(`SELECT pg_advisory_xact_lock(${PRISMA_ADVISORY_LOCK})`);
      if (schema !== undefined) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        await client.query(`SET LOCAL search_path TO "${schema}"`);
      }
      await client.query(POSTGRESQL_LEDGER);
      const applied = new Set(
        (await client.query(APPLIED_MIGRATIONS)).rows.map((r) => r.migration_name as string),
      );
      const done: string[] = [];
      for (const migration of MIGRATIONS.postgresql) {
        if (applied.has(migration.name)) continue;
        const startedAt = new Date();
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count")
           VALUES ($1, $2, now(), $3, NULL, NULL, $4, 1)`,
          [randomUUID(), checksum(migration.sql), migration.name, startedAt],
        );
        done.push(migration.name);
      }
      await client.query("COMMIT");
      return done;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  } finally {
    await client.end();
  }
}
