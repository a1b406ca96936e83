import { join, raw, type Sql, sqltag as sql } from "@prisma/client/runtime/client";
import { MAX_COUNTER } from "../../core/limits.ts";

/**
 * The few SQL expressions that differ between SQLite and PostgreSQL. Everything else in
 * `PrismaStore` is written once, in SQL both databases accept.
 */
export interface Dialect {
  readonly name: "sqlite" | "postgresql";
  /**
   * The integer a stored JSON text holds when a counter may use it (a JSON integer, or a JSON
   * string holding one as Redis writes it, within ±(2^53−1)); SQL NULL otherwise.
   */
  counter(column: Sql): Sql;
  /**
   * A parenthesised list of values for `IN`. SQLite binds it as one JSON parameter: Cloudflare
   * D1 refuses a statement with over 100 bound parameters, and a batch holds up to 1,000 keys.
   */
  list(values: readonly string[]): Sql;
  /**
   * The rows of an `INSERT … <rows> ON CONFLICT …`: `VALUES (…), (…)` on PostgreSQL; on SQLite a
   * `SELECT` over one JSON parameter (for D1, as in `list`). Cells are strings, numbers or null.
   */
  rows(rows: readonly (readonly (string | number | null)[])[]): Sql;
  /** A key, field or lock name as the database stores it (see `POSTGRESQL_DIALECT`). */
  encodeKey(key: string): string;
  /** The inverse of `encodeKey`. */
  decodeKey(stored: string): string;
}

const same = (key: string) => key;

const NUL = String.fromCharCode(0);
const SOH = String.fromCharCode(1);
const STX = String.fromCharCode(2);

/** U+0000 → U+0001 U+0001, U+0001 → U+0001 U+0002: a prefix-free code that keeps byte order. */
function escapeControl(key: string): string {
  if (!key.includes(NUL) && !key.includes(SOH)) return key;
  return key
    .split(SOH)
    .join(SOH + STX)
    .split(NUL)
    .join(SOH + SOH);
}

function unescapeControl(stored: string): string {
  if (!stored.includes(SOH)) return stored;
  let out = "";
  for (let i = 0; i < stored.length; i++) {
    const c = stored[i] as string;
    if (c === SOH) out += stored[++i] === SOH ? NUL : SOH;
    else out += c;
  }
  return out;
}

function jsonList(values: readonly string[]): Sql {
  return sql`(SELECT "value" FROM json_each(${JSON.stringify(values)}))`;
}

function jsonRows(rows: readonly (readonly (string | number | null)[])[]): Sql {
  const width = rows[0]?.length ?? 0;
  const cells = Array.from({ length: width }, (_, i) => raw(`json_extract("j"."value", '$[${i}]')`));
  // `WHERE true` keeps SQLite from reading the ON of ON CONFLICT as a join constraint.
  return sql`SELECT ${join(cells)} FROM json_each(${JSON.stringify(rows)}) AS "j" WHERE true`;
}

function valuesList(values: readonly string[]): Sql {
  return sql`(${join(values)})`;
}

function valuesRows(rows: readonly (readonly (string | number | null)[])[]): Sql {
  return sql`VALUES ${join(rows.map((row) => sql`(${join(row)})`))}`;
}

const SAFE = raw(String(MAX_COUNTER));

/** SQLite: JSON1's `json_type` tells integers apart; casts are total, so no guard is needed. */
export const SQLITE_DIALECT: Dialect = {
  name: "sqlite",
  list: jsonList,
  rows: jsonRows,
  encodeKey: same,
  decodeKey: same,
  counter(column) {
    const n = sql`(CASE
      WHEN json_type(${column}) = 'integer' THEN CAST(${column} AS INTEGER)
      WHEN json_type(${column}) = 'text'
        AND (CAST(CAST(json_extract(${column}, '$') AS INTEGER) AS TEXT) = json_extract(${column}, '$')
          OR json_extract(${column}, '$') = '-0')
        THEN CAST(json_extract(${column}, '$') AS INTEGER)
    END)`;
    return sql`(CASE WHEN abs(${n}) <= ${SAFE} THEN ${n} END)`;
  },
};

/** PostgreSQL: a regular expression admits at most 16 digits before the cast, which cannot fail. */
export const POSTGRESQL_DIALECT: Dialect = {
  name: "postgresql",
  list: valuesList,
  rows: valuesRows,
  // PostgreSQL text cannot hold U+0000, which SPEC allows in keys. Stored keys spell U+0000 as
  // U+0001 U+0001 and U+0001 as U+0001 U+0002: a prefix-free code that keeps byte order.
  encodeKey: escapeControl,
  decodeKey: unescapeControl,
  counter(column) {
    const n = sql`(CASE
      WHEN ${column} ~ '^-?(0|[1-9][0-9]{0,15})$' THEN CAST(${column} AS BIGINT)
      WHEN ${column} ~ '^"-?(0|[1-9][0-9]{0,15})"$' THEN CAST(btrim(${column}, '"') AS BIGINT)
    END)`;
    return sql`(CASE WHEN abs(${n}) <= ${SAFE} THEN ${n} END)`;
  },
};

export { join, raw, type Sql, sql };
