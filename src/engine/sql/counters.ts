import { InternalError, WrongTypeError } from "../../core/errors.ts";
import type { JsonValue } from "../../core/types.ts";
import { addCounter, checkStep, counterValue } from "../counter.ts";
import { type Row, type SqlContext, T_ENTRIES, WRITE_RETRIES } from "./context.ts";
import { raw, type Sql, sql } from "./dialect.ts";

const C_VALUE = raw(`"kv_entries"."value"`);

export async function incrBy(ctx: SqlContext, name: string, by: number): Promise<number> {
  const key = ctx.enc(name);
  const step = counterStep(by);
  // One conditional upsert does the whole update; only when it refuses do we read the
  // row to say why (WRONGTYPE, NOT_INTEGER, OVERFLOW). A value changed in between is retried.
  for (let attempt = 0; attempt < WRITE_RETRIES; attempt++) {
    const now = ctx.clock.now();
    const current = ctx.dialect.counter(C_VALUE);
    const expired = sql`(${T_ENTRIES}."expires_at" IS NOT NULL AND ${T_ENTRIES}."expires_at" <= ${now})`;
    const rows = await ctx.run((db) =>
      db.$queryRaw<Row[]>(
        sql`INSERT INTO ${T_ENTRIES} ("key", "kind", "value", "expires_at") VALUES (${key}, 'string', ${String(by)}, NULL)
            ON CONFLICT ("key") DO UPDATE SET
              "kind" = 'string',
              "value" = CASE WHEN ${expired} THEN ${String(by)} ELSE CAST(${current} + ${step} AS TEXT) END,
              "expires_at" = CASE WHEN ${expired} THEN NULL ELSE ${T_ENTRIES}."expires_at" END
            WHERE ${expired} OR (${T_ENTRIES}."kind" = 'string' AND abs(${current} + ${step}) <= ${raw(String(Number.MAX_SAFE_INTEGER))})
            RETURNING "value"`,
      ),
    );
    const row = rows[0];
    if (row !== undefined) return Number(row.value);
    const existing = await ctx.run((db) =>
      db.$queryRaw<Row[]>(
        sql`SELECT "kind", "value" FROM ${T_ENTRIES} WHERE "key" = ${key} AND ${ctx.live(now)}`,
      ),
    );
    const found = existing[0];
    if (found !== undefined) {
      if (found.kind !== "string") throw new WrongTypeError();
      addCounter(counterValue(JSON.parse(found.value as string) as JsonValue), by);
    }
  }
  throw new InternalError("counter update kept conflicting");
}

/**
 * The increment as an SQL literal (so that both databases add integers, whatever type a bound
 * parameter would get). Only a safe integer can become one: nothing else reaches the SQL text.
 */
export function counterStep(by: number): Sql {
  return raw(BigInt(checkStep(by)).toString());
}
