import { join, raw, type Sql, sqltag as sql } from "@prisma/client/runtime/client";
import { MAX_COUNTER } from "../limits.ts";

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
}

const SAFE = raw(String(MAX_COUNTER));

/** SQLite: JSON1's `json_type` tells integers apart; casts are total, so no guard is needed. */
export const SQLITE_DIALECT: Dialect = {
  name: "sqlite",
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
  counter(column) {
    const n = sql`(CASE
      WHEN ${column} ~ '^-?(0|[1-9][0-9]{0,15})$' THEN CAST(${column} AS BIGINT)
      WHEN ${column} ~ '^"-?(0|[1-9][0-9]{0,15})"$' THEN CAST(btrim(${column}, '"') AS BIGINT)
    END)`;
    return sql`(CASE WHEN abs(${n}) <= ${SAFE} THEN ${n} END)`;
  },
};

export { join, raw, type Sql, sql };
