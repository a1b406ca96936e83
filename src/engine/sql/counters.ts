import { compareBytes } from "../../core/bytes.ts";
import { InternalError, WrongTypeError } from "../../core/errors.ts";
import { MAX_COUNTER } from "../../core/limits.ts";
import type { JsonValue } from "../../core/types.ts";
import type { Settled } from "../coalesce.ts";
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

/** One increment of a batch: its key and its step (a safe integer). */
export interface Increment {
  key: string;
  by: number;
}

/**
 * Runs concurrent increments as if one after another in the order given, each answering the
 * value Redis would have given it. The increments of one key merge into one step when they all
 * go the same way (so no value between the first and the last can overflow if the last does
 * not) and that step is a safe integer; the merged steps of every key go out as one multi-row
 * upsert. Each caller gets the final value less the steps that came after its own. A key the
 * upsert refused (wrong type, not an integer, overflow) and a key with steps both ways run their
 * increments one by one, so each gets its own answer or error.
 */
export async function incrMany(ctx: SqlContext, items: readonly Increment[]): Promise<Settled<number>[]> {
  const byKey = new Map<string, number[]>();
  items.forEach((item, i) => {
    const positions = byKey.get(item.key);
    if (positions === undefined) byKey.set(item.key, [i]);
    else positions.push(i);
  });
  const merged = new Map<string, number>();
  const oneByOne: string[] = [];
  for (const [key, positions] of byKey) {
    const steps = positions.map((i) => (items[i] as Increment).by);
    const sum = steps.reduce((a, b) => a + b, 0);
    const sameWay = steps.every((by) => by >= 0) || steps.every((by) => by <= 0);
    if (sameWay && Math.abs(sum) <= MAX_COUNTER) merged.set(key, sum);
    else oneByOne.push(key);
  }
  const out: Settled<number>[] = new Array(items.length);
  if (merged.size > 0) {
    const finals = await addMany(ctx, merged);
    for (const key of merged.keys()) {
      const final = finals.get(key);
      if (final === undefined) {
        oneByOne.push(key);
        continue;
      }
      // Walk back from the final value: each caller's value is what stood after its own step.
      let value = final;
      const positions = byKey.get(key) as number[];
      for (let p = positions.length - 1; p >= 0; p--) {
        const i = positions[p] as number;
        out[i] = { ok: true, value: value === 0 ? 0 : value };
        value -= (items[i] as Increment).by;
      }
    }
  }
  for (const key of oneByOne) {
    for (const i of byKey.get(key) as number[]) {
      try {
        out[i] = { ok: true, value: await incrBy(ctx, key, (items[i] as Increment).by) };
      } catch (error) {
        out[i] = { ok: false, error };
      }
    }
  }
  return out;
}

/**
 * Adds a step to each key in one upsert (rows in key order, so concurrent batches lock keys in
 * one order); answers the new value of each key it changed. A key it left alone is absent.
 */
async function addMany(ctx: SqlContext, steps: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  const now = ctx.clock.now();
  const cells = [...steps.keys()]
    .sort(compareBytes)
    .map((key) => [ctx.enc(key), "string", String(steps.get(key)), null]);
  const current = ctx.dialect.counter(C_VALUE);
  const step = ctx.dialect.counter(raw(`excluded."value"`));
  const expired = sql`(${T_ENTRIES}."expires_at" IS NOT NULL AND ${T_ENTRIES}."expires_at" <= ${now})`;
  const rows = await ctx.run((db) =>
    db.$queryRaw<Row[]>(
      sql`INSERT INTO ${T_ENTRIES} ("key", "kind", "value", "expires_at") ${ctx.dialect.rows(cells)}
          ON CONFLICT ("key") DO UPDATE SET
            "kind" = 'string',
            "value" = CASE WHEN ${expired} THEN excluded."value" ELSE CAST(${current} + ${step} AS TEXT) END,
            "expires_at" = CASE WHEN ${expired} THEN NULL ELSE ${T_ENTRIES}."expires_at" END
          WHERE ${expired} OR (${T_ENTRIES}."kind" = 'string' AND abs(${current} + ${step}) <= ${raw(String(MAX_COUNTER))})
          RETURNING "key", "value"`,
    ),
  );
  const out = new Map<string, number>();
  for (const row of rows) out.set(ctx.dec(row.key), Number(row.value));
  return out;
}

/**
 * The increment as an SQL literal (so that both databases add integers, whatever type a bound
 * parameter would get). Only a safe integer can become one: nothing else reaches the SQL text.
 */
export function counterStep(by: number): Sql {
  return raw(BigInt(checkStep(by)).toString());
}
