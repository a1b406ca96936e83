import { InternalError, WrongTypeError } from "../../core/errors.ts";
import type { JsonValue } from "../../core/types.ts";
import { addCounter, counterValue } from "../counter.ts";
import {
  parseJson,
  type Row,
  type SqlContext,
  type SqlRunner,
  T_ENTRIES,
  T_FIELDS,
  WRITE_RETRIES,
} from "./context.ts";
import { counterStep } from "./counters.ts";
import { raw, sql } from "./dialect.ts";

const C_FIELD_VALUE = raw(`"kv_hash_fields"."value"`);

/** Inside a hash write: drops the key if it expired (its fields go with it). */
function dropExpired(tx: SqlRunner, key: string, now: number): Promise<number> {
  return tx.$executeRaw(
    sql`DELETE FROM ${T_ENTRIES} WHERE "key" = ${key} AND "expires_at" IS NOT NULL AND "expires_at" <= ${now}`,
  );
}

/** Inside a hash write: drops the key if it expired, then locks its header row, if there is one. */
async function hashHeader(tx: SqlRunner, key: string, now: number): Promise<boolean> {
  await dropExpired(tx, key, now);
  const rows = await tx.$queryRaw<Row[]>(
    sql`UPDATE ${T_ENTRIES} SET "kind" = "kind" WHERE "key" = ${key} RETURNING "kind"`,
  );
  const row = rows[0];
  if (row === undefined) return false;
  if (row.kind !== "hash") throw new WrongTypeError();
  return true;
}

/**
 * Inside a hash write: makes the key a live hash (a new one where it is missing or expired) and
 * locks its header row, in one statement while the key has not expired; answers how many of
 * `fields` (stored names) it holds already, or undefined when the hash vanished meanwhile (only
 * without isolated transactions: D1). WRONGTYPE for a string.
 */
async function openHash(
  ctx: SqlContext,
  tx: SqlRunner,
  key: string,
  now: number,
  fields: readonly string[],
): Promise<number | undefined> {
  const held =
    fields.length === 0
      ? raw("0")
      : sql`(SELECT COUNT(*) FROM ${T_FIELDS} WHERE ${T_FIELDS}."key" = ${key} AND ${T_FIELDS}."field" IN ${ctx.dialect.list(fields)})`;
  for (let attempt = 0; attempt < 2; attempt++) {
    // A live row is locked and kept; an expired one is left alone here (no row comes back).
    const rows = await tx.$queryRaw<Row[]>(
      sql`INSERT INTO ${T_ENTRIES} ("key", "kind", "value", "expires_at") VALUES (${key}, 'hash', NULL, NULL)
          ON CONFLICT ("key") DO UPDATE SET "kind" = ${T_ENTRIES}."kind"
          WHERE ${T_ENTRIES}."expires_at" IS NULL OR ${T_ENTRIES}."expires_at" > ${now}
          RETURNING "kind", ${held} AS "n"`,
    );
    const row = rows[0];
    if (row !== undefined) {
      if (row.kind !== "hash") throw new WrongTypeError();
      return Number(row.n);
    }
    // The key expired: it goes, with its fields, and the hash starts anew.
    await dropExpired(tx, key, now);
  }
  return undefined;
}

export async function hSet(
  ctx: SqlContext,
  name: string,
  fields: Record<string, JsonValue>,
): Promise<number> {
  const key = ctx.enc(name);
  const names = Object.keys(fields);
  const stored = names.map((f) => ctx.enc(f));
  const values = names.map((f, i) => [key, stored[i] as string, JSON.stringify(fields[f])]);
  for (let attempt = 0; attempt < WRITE_RETRIES; attempt++) {
    const created = await ctx.transaction(async (tx) => {
      const held = await openHash(ctx, tx, key, ctx.clock.now(), stored);
      if (held === undefined) return undefined;
      const written = await tx.$executeRaw(
        sql`INSERT INTO ${T_FIELDS} ("key", "field", "value")
              SELECT * FROM (${ctx.dialect.rows(values)}) AS "r" WHERE ${ctx.isHash(key)}
              ON CONFLICT ("key", "field") DO UPDATE SET "value" = excluded."value"`,
      );
      // Only without isolated transactions (D1) can the hash vanish between two statements: again.
      return written === 0 ? undefined : names.length - held;
    });
    if (created !== undefined) return created;
  }
  throw new InternalError("hash update kept conflicting");
}

export async function hDel(ctx: SqlContext, name: string, fields: string[]): Promise<number> {
  const key = ctx.enc(name);
  return ctx.transaction(async (tx) => {
    if (!(await hashHeader(tx, key, ctx.clock.now()))) return 0;
    const removed = await tx.$executeRaw(
      sql`DELETE FROM ${T_FIELDS} WHERE "key" = ${key} AND "field" IN ${ctx.dialect.list([...new Set(fields)].map((f) => ctx.enc(f)))}`,
    );
    await tx.$executeRaw(
      sql`DELETE FROM ${T_ENTRIES} WHERE "key" = ${key}
            AND NOT EXISTS (SELECT 1 FROM ${T_FIELDS} WHERE ${T_FIELDS}."key" = ${key})`,
    );
    return removed;
  });
}

export async function hIncrBy(ctx: SqlContext, name: string, fieldName: string, by: number): Promise<number> {
  const key = ctx.enc(name);
  const field = ctx.enc(fieldName);
  const step = counterStep(by);
  const current = ctx.dialect.counter(C_FIELD_VALUE);
  for (let attempt = 0; attempt < WRITE_RETRIES; attempt++) {
    const result = await ctx.transaction(async (tx) => {
      if ((await openHash(ctx, tx, key, ctx.clock.now(), [])) === undefined) return undefined;
      const rows = await tx.$queryRaw<Row[]>(
        sql`INSERT INTO ${T_FIELDS} ("key", "field", "value")
              SELECT ${key}, ${field}, ${String(by)} WHERE ${ctx.isHash(key)}
              ON CONFLICT ("key", "field") DO UPDATE SET "value" = CAST(${current} + ${step} AS TEXT)
              WHERE abs(${current} + ${step}) <= ${raw(String(Number.MAX_SAFE_INTEGER))}
              RETURNING "value"`,
      );
      const row = rows[0];
      if (row !== undefined) return Number(row.value);
      const existing = await tx.$queryRaw<Row[]>(
        sql`SELECT e."kind" AS "kind", f."value" AS "value" FROM ${T_ENTRIES} e
            LEFT JOIN ${T_FIELDS} f ON f."key" = e."key" AND f."field" = ${field}
            WHERE e."key" = ${key}`,
      );
      const found = existing[0];
      if (found?.kind === "string") throw new WrongTypeError();
      if (found?.value != null) addCounter(counterValue(parseJson(found.value)), by);
      // Only without isolated transactions (D1) can the hash vanish between two statements: again.
      return undefined;
    });
    if (result !== undefined) return result;
  }
  throw new InternalError("hash counter update kept conflicting");
}
