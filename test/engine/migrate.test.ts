import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/engine/sql/migrate.ts";
import { parseDatabaseUrl } from "../../src/engine/sql/url.ts";
import { PrismaClient as PgClient } from "../../src/generated/postgresql/client.ts";
import { PrismaClient as SqliteClient } from "../../src/generated/sqlite/client.ts";
import { dropPgSchema, freshPgUrl, PG_URL, tempSqlite } from "../helpers/databases.ts";

const root = join(import.meta.dirname, "..", "..");

function checkedIn(provider: "sqlite" | "postgresql") {
  const dir = join(root, "prisma", provider, "migrations");
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

type AnyClient = InstanceType<typeof SqliteClient>;

/** Uses every model and column through the generated client's query builder: it fails if the migrated tables differ. */
async function exerciseModels(client: AnyClient): Promise<void> {
  const entry = await client.entry.create({
    data: {
      key: "k",
      kind: "hash",
      value: null,
      expiresAt: 2n ** 41n,
      fields: { create: [{ field: "f", value: "1" }] },
    },
    include: { fields: true },
  });
  expect(entry).toEqual({
    key: "k",
    kind: "hash",
    value: null,
    expiresAt: 2n ** 41n,
    fields: [{ key: "k", field: "f", value: "1" }],
  });
  expect(await client.entry.findMany({ where: { expiresAt: { gt: 0n } }, select: { key: true } })).toEqual([
    { key: "k" },
  ]);
  await client.lock.create({ data: { name: "l", token: "t", expiresAt: 5n } });
  expect(await client.lock.findUnique({ where: { name: "l" } })).toEqual({
    name: "l",
    token: "t",
    expiresAt: 5n,
  });
  await client.entry.delete({ where: { key: "k" } });
  expect(await client.hashField.count()).toBe(0);
}

describe("migrations on SQLite", () => {
  const db = tempSqlite();
  const target = parseDatabaseUrl(db.url);
  afterAll(() => db.remove());

  it("apply on an empty file, in WAL mode, recorded as Prisma records them", async () => {
    expect(await migrate(target)).toEqual(checkedIn("sqlite").map((m) => m.name));
    const raw = new Database((target as { path: string }).path);
    try {
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      const rows = raw
        .prepare(
          `SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations`,
        )
        .all() as {
        migration_name: string;
        checksum: string;
        finished_at: number | null;
        applied_steps_count: number;
      }[];
      expect(rows.map((r) => ({ name: r.migration_name, checksum: r.checksum }))).toEqual(
        checkedIn("sqlite"),
      );
      for (const row of rows) {
        expect(row.finished_at).not.toBeNull();
        expect(row.applied_steps_count).toBe(1);
      }
    } finally {
      raw.close();
    }
  });

  it("are idempotent, also when several run at once", async () => {
    const results = await Promise.all([migrate(target), migrate(target), migrate(target)]);
    expect(results).toEqual([[], [], []]);
  });

  it("create the schema the generated client expects", async () => {
    const client = new SqliteClient({
      adapter: new PrismaBetterSqlite3({ url: (target as { path: string }).path }),
    });
    try {
      await client.$executeRawUnsafe("PRAGMA foreign_keys = ON");
      await exerciseModels(client);
    } finally {
      await client.$disconnect();
    }
  });
});

describe.skipIf(PG_URL === null)("migrations on PostgreSQL", () => {
  const url = PG_URL === null ? "" : freshPgUrl("migrate");
  const target = PG_URL === null ? undefined : parseDatabaseUrl(url);
  afterAll(() => (PG_URL === null ? undefined : dropPgSchema(url)));

  it("apply once even when many instances start at once, recorded as Prisma records them", async () => {
    if (target?.provider !== "postgresql") throw new Error("expected a PostgreSQL target");
    const results = await Promise.all(Array.from({ length: 5 }, () => migrate(target)));
    expect(results.flat()).toEqual(checkedIn("postgresql").map((m) => m.name));
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "${target.schema}"._prisma_migrations ORDER BY migration_name`,
      );
      expect(rows.map((r) => ({ name: r.migration_name, checksum: r.checksum }))).toEqual(
        checkedIn("postgresql"),
      );
      expect(rows.every((r) => r.finished_at !== null && r.applied_steps_count === 1)).toBe(true);
      const collation = await client.query(
        `SELECT collation_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'kv_entries' AND column_name = 'key'`,
        [target.schema],
      );
      expect(collation.rows[0]?.collation_name).toBe("C");
    } finally {
      await client.end();
    }
    expect(await migrate(target)).toEqual([]);
  });

  it("create the schema the generated client expects", async () => {
    if (target?.provider !== "postgresql") throw new Error("expected a PostgreSQL target");
    const client = new PgClient({
      adapter: new PrismaPg({ connectionString: target.url }, { schema: target.schema as string }),
    });
    try {
      await exerciseModels(client as unknown as AnyClient);
    } finally {
      await client.$disconnect();
    }
  });
});
