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

/** Inside a hash write: drops the key if it expired, then locks its header row. */
async function hashHeader(tx: SqlRunner, key: string, now: number, create: boolean): Promise<boolean> {
  await tx.$executeRaw(
    sql`DELETE FROM ${T_ENTRIES} WHERE "key" = ${key} AND "expires_at" IS NOT NULL AND "expires_at" <= ${now}`,
  );
  const rows = create
    ? await tx.$queryRaw<Row[]>(
        sql`INSERT INTO ${T_ENTRIES} ("key", "kind", "value", "expires_at") VALUES (${key}, 'hash', NULL, NULL)
            ON CONFLICT ("key") DO UPDATE SET "kind" = ${T_ENTRIES}."kind" RETURNING "kind"`,
      )
    : await tx.$queryRaw<Row[]>(
        sql`UPDATE ${T_ENTRIES} SET "kind" = "kind" WHERE "key" = ${key} RETURNING "kind"`,
      );
  const row = rows[0];
  if (row === undefined) return false;
  if (row.kind !== "hash") throw new WrongTypeError();
  return true;
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
      await hashHeader(tx, key, ctx.clock.now(), true);
      const before = await tx.$queryRaw<Row[]>(
        sql`SELECT COUNT(*) AS "n" FROM ${T_FIELDS} WHERE "key" = ${key} AND "field" IN ${ctx.dialect.list(stored)}`,
      );
      const written = await tx.$executeRaw(
        sql`INSERT INTO ${T_FIELDS} ("key", "field", "value")
              SELECT * FROM (${ctx.dialect.rows(values)}) AS "r" WHERE ${ctx.isHash(key)}
              ON CONFLICT ("key", "field") DO UPDATE SET "value" = excluded."value"`,
      );
      // Only without isolated transactions (D1) can the hash vanish between two statements: again.
      return written === 0 ? undefined : names.length - Number(before[0]?.n ?? 0);
    });
    if (created !== undefined) return created;
  }
  throw new InternalError("hash update kept conflicting");
}

export async function hDel(ctx: SqlContext, name: string, fields: string[]): Promise<number> {
  const key = ctx.enc(name);
  return ctx.transaction(async (tx) => {
    if (!(await hashHeader(tx, key, ctx.clock.now(), false))) return 0;
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
      await hashHeader(tx, key, ctx.clock.now(), true);
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
