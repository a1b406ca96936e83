import { compareBytes } from "../../core/bytes.ts";
import type { JsonValue, SetOptions } from "../../core/types.ts";
import type { FieldSelection, Snapshot } from "../types.ts";
import { type Row, type SqlContext, T_ENTRIES, T_FIELDS } from "./context.ts";
import { raw, sql } from "./dialect.ts";

// Strings and whole keys: reads of a key's state, writes that replace it, its TTL.

export async function inspect(
  ctx: SqlContext,
  name: string,
  fields: FieldSelection = "none",
): Promise<Snapshot> {
  const now = ctx.clock.now();
  const key = ctx.enc(name);
  const join =
    fields === "none"
      ? sql``
      : fields === "all"
        ? sql`LEFT JOIN ${T_FIELDS} f ON f."key" = e."key"`
        : sql`LEFT JOIN ${T_FIELDS} f ON f."key" = e."key" AND f."field" IN ${ctx.dialect.list(fields.map((f) => ctx.enc(f)))}`;
  const columns = fields === "none" ? sql`` : sql`, f."field" AS "field", f."value" AS "fvalue"`;
  const rows = await ctx.run((db) =>
    db.$queryRaw<Row[]>(
      sql`SELECT e."kind" AS "kind", e."value" AS "value", e."expires_at" AS "expires_at" ${columns}
          FROM ${T_ENTRIES} e ${join} WHERE e."key" = ${key} AND ${ctx.live(now, raw("e"))}
          ${fields === "all" ? sql`ORDER BY f."field"` : sql``}`,
    ),
  );
  const first = rows[0];
  if (first === undefined) return { kind: "none" };
  const expiresAt = first.expires_at === null ? null : Number(first.expires_at);
  if (first.kind === "string") return { kind: "string", json: first.value as string, expiresAt };
  const map = new Map<string, string | undefined>();
  if (Array.isArray(fields)) for (const f of fields) map.set(f, undefined);
  for (const row of rows) if (row.field != null) map.set(ctx.dec(row.field), row.fvalue as string);
  return { kind: "hash", expiresAt, fields: map, complete: fields === "all" };
}

export async function inspectMany(ctx: SqlContext, keys: string[]): Promise<Map<string, Snapshot>> {
  const now = ctx.clock.now();
  const rows = await ctx.run((db) =>
    db.$queryRaw<Row[]>(
      sql`SELECT "key", "kind", "value", "expires_at" FROM ${T_ENTRIES}
          WHERE "key" IN ${ctx.dialect.list(keys.map((k) => ctx.enc(k)))} AND ${ctx.live(now)}`,
    ),
  );
  const out = new Map<string, Snapshot>();
  for (const key of keys) out.set(key, { kind: "none" });
  for (const row of rows) out.set(ctx.dec(row.key), snapshotOfRow(row, now));
  return out;
}

/** A key's whole-key snapshot (a hash without its fields) from its entry row, at `now`. */
export function snapshotOfRow(row: Row, now: number): Snapshot {
  const expiresAt = row.expires_at === null ? null : Number(row.expires_at);
  if (expiresAt !== null && expiresAt <= now) return { kind: "none" };
  return row.kind === "string"
    ? { kind: "string", json: row.value as string, expiresAt }
    : { kind: "hash", expiresAt, fields: new Map(), complete: false };
}

export async function set(
  ctx: SqlContext,
  name: string,
  value: JsonValue,
  options: SetOptions = {},
): Promise<boolean> {
  const key = ctx.enc(name);
  const now = ctx.clock.now();
  const json = JSON.stringify(value);
  const expiresAt = options.ttlMs === undefined ? null : now + options.ttlMs;
  if (options.xx) {
    const n = await ctx.run((db) =>
      db.$executeRaw(
        sql`UPDATE ${T_ENTRIES} SET "kind" = 'string', "value" = ${json}, "expires_at" = ${expiresAt}
            WHERE "key" = ${key} AND ${ctx.live(now)}`,
      ),
    );
    return n > 0;
  }
  const onlyIfExpired = options.nx
    ? sql`WHERE ${T_ENTRIES}."expires_at" IS NOT NULL AND ${T_ENTRIES}."expires_at" <= ${now}`
    : sql``;
  const n = await ctx.run((db) =>
    db.$executeRaw(
      sql`INSERT INTO ${T_ENTRIES} ("key", "kind", "value", "expires_at") VALUES (${key}, 'string', ${json}, ${expiresAt})
          ON CONFLICT ("key") DO UPDATE SET "kind" = 'string', "value" = excluded."value", "expires_at" = excluded."expires_at"
          ${onlyIfExpired}`,
    ),
  );
  return n > 0;
}

export async function del(ctx: SqlContext, name: string): Promise<number> {
  const key = ctx.enc(name);
  const now = ctx.clock.now();
  const n = await ctx.run((db) =>
    db.$executeRaw(sql`DELETE FROM ${T_ENTRIES} WHERE "key" = ${key} AND ${ctx.live(now)}`),
  );
  return n > 0 ? 1 : 0;
}

export async function ttl(ctx: SqlContext, name: string): Promise<number> {
  const key = ctx.enc(name);
  const now = ctx.clock.now();
  const rows = await ctx.run((db) =>
    db.$queryRaw<Row[]>(sql`SELECT "expires_at" FROM ${T_ENTRIES} WHERE "key" = ${key} AND ${ctx.live(now)}`),
  );
  const row = rows[0];
  if (row === undefined) return -2;
  return row.expires_at === null ? -1 : Number(row.expires_at) - now;
}

export async function expire(ctx: SqlContext, name: string, ttlMs: number): Promise<boolean> {
  const key = ctx.enc(name);
  const now = ctx.clock.now();
  const n = await ctx.run((db) =>
    db.$executeRaw(
      sql`UPDATE ${T_ENTRIES} SET "expires_at" = ${now + ttlMs} WHERE "key" = ${key} AND ${ctx.live(now)}`,
    ),
  );
  return n > 0;
}

/** One string to write: its key, its JSON text and its expiry (epoch ms, null for none). */
export interface StringRow {
  key: string;
  json: string;
  expiresAt: number | null;
}

/**
 * Writes strings in one statement, each replacing its key's type and TTL; of a key given more
 * than once, the last row wins (as if they ran in order).
 */
export async function writeStrings(ctx: SqlContext, rows: readonly StringRow[]): Promise<void> {
  const last = new Map<string, StringRow>();
  for (const row of rows) last.set(row.key, row);
  // Rows in key order: concurrent batches then lock their keys in one order and cannot deadlock.
  const cells = [...last.values()]
    .sort((a, b) => compareBytes(a.key, b.key))
    .map((row) => [ctx.enc(row.key), "string", row.json, row.expiresAt]);
  await ctx.run((db) =>
    db.$executeRaw(
      sql`INSERT INTO ${T_ENTRIES} ("key", "kind", "value", "expires_at") ${ctx.dialect.rows(cells)}
          ON CONFLICT ("key") DO UPDATE SET "kind" = 'string', "value" = excluded."value", "expires_at" = excluded."expires_at"`,
    ),
  );
}

export async function mSet(
  ctx: SqlContext,
  pairs: Record<string, JsonValue>,
  options: { ttlMs?: number } = {},
): Promise<true> {
  const expiresAt = options.ttlMs === undefined ? null : ctx.clock.now() + options.ttlMs;
  await writeStrings(
    ctx,
    Object.keys(pairs).map((key) => ({ key, json: JSON.stringify(pairs[key]), expiresAt })),
  );
  return true;
}
