import type { D1Database } from "@cloudflare/workers-types";
import { APPLIED_MIGRATIONS, SQLITE_LEDGER } from "../engine/sql/ledger.ts";
import { MIGRATIONS } from "../generated/migrations.ts";

/**
 * Splits a migration into statements for D1, which prepares one statement at a time: a
 * statement ends with a line ending in `;`, except inside `CREATE TRIGGER … END;`.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: string[] = [];
  for (const line of sql.split("\n")) {
    if (current.length === 0 && (line.trim() === "" || line.trim().startsWith("--"))) continue;
    current.push(line);
    const text = current.join("\n");
    const ends = /^\s*CREATE\s+TRIGGER\b/i.test(text)
      ? /^\s*END\s*;\s*$/i.test(line)
      : line.trim().endsWith(";");
    if (ends) {
      statements.push(text.trim());
      current = [];
    }
  }
  if (current.join("").trim() !== "") statements.push(current.join("\n").trim());
  return statements;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function applied(db: D1Database): Promise<Set<string>> {
  const { results } = await db.prepare(APPLIED_MIGRATIONS).all<{ migration_name: string }>();
  return new Set(results.map((row) => row.migration_name));
}

/**
 * Applies the checked-in SQLite migrations that a D1 database lacks. Each migration and its
 * ledger row go in one `batch`, which D1 runs as one transaction; when two isolates race, the
 * loser's batch fails on the existing tables and it finds the migration recorded on re-reading.
 */
export async function migrateD1(db: D1Database): Promise<string[]> {
  await db.prepare(SQLITE_LEDGER).run();
  const done = await applied(db);
  const ran: string[] = [];
  for (const migration of MIGRATIONS.sqlite) {
    if (done.has(migration.name)) continue;
    const startedAt = Date.now();
    const statements = splitStatements(migration.sql).map((s) => db.prepare(s));
    const ledgerRow = db
      .prepare(
        `INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count")
         VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
      )
      .bind(crypto.randomUUID(), await sha256(migration.sql), Date.now(), migration.name, startedAt);
    try {
      await db.batch([...statements, ledgerRow]);
      ran.push(migration.name);
    } catch (error) {
      if (!(await applied(db)).has(migration.name)) throw error;
    }
  }
  return ran;
}
