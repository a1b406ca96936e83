import type { ArgType, SqlDriverAdapter, SqlQueryable, SqlResultSet } from "@prisma/driver-adapter-utils";
import type { Row, SqlClient, SqlRunner } from "./context.ts";
import type { Sql } from "./dialect.ts";
import { isTimeout } from "./driver-errors.ts";

/**
 * A `SqlClient` straight on a Prisma driver adapter (`PrismaBetterSqlite3`, `PrismaPg`,
 * `PrismaD1` once connected): the statements go to the adapter's `queryRaw`/`executeRaw`
 * without `PrismaClient`'s raw-query layer, which costs several times the statement itself on
 * a primary-key read. Prisma still owns the schema, the migrations and the drivers.
 */
export function adapterClient(adapter: SqlDriverAdapter, placeholders: "?" | "$n"): SqlClient {
  const sqlite = betterSqlite3Of(adapter);
  if (sqlite !== undefined) return statementCacheClient(adapter, sqlite);
  const pool = pgPoolOf(adapter);
  const runner = (queryable: SqlQueryable): SqlRunner => ({
    $queryRaw: async <T>(query: Sql) => rows(await queryable.queryRaw(toQuery(query, placeholders))) as T,
    $executeRaw: (query: Sql) => queryable.executeRaw(toQuery(query, placeholders)),
  });
  const direct = pool === undefined ? runner(adapter) : preparedRunner(pool);
  return {
    ...direct,
    async $transaction<R>(fn: (tx: SqlRunner) => Promise<R>): Promise<R> {
      const tx = await adapter.startTransaction();
      // The adapters leave COMMIT and ROLLBACK to their caller (`usePhantomQuery: false`):
      // `commit()` and `rollback()` only hand the connection back.
      let result: R;
      try {
        result = await fn(runner(tx));
        await tx.executeRaw({ sql: "COMMIT", args: [], argTypes: [] });
      } catch (error) {
        // A connection whose statement timed out may still be waiting on a silent server: it
        // goes, never back to the pool (PostgreSQL rolls back what it began).
        if (isTimeout(error)) discard(tx, error);
        else {
          await tx.executeRaw({ sql: "ROLLBACK", args: [], argTypes: [] }).catch(() => {});
          await tx.rollback();
        }
        throw error;
      }
      await tx.commit();
      return result;
    },
    $disconnect: () => adapter.dispose(),
    pool: () =>
      pool === undefined
        ? undefined
        : { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
  };
}

/** Destroys a transaction's pooled connection (node-postgres's `release(error)`). */
function discard(tx: object, error: unknown): void {
  const client = (tx as { client?: { release?: (error?: Error) => void } }).client;
  client?.release?.(error instanceof Error ? error : new Error("timed out"));
}

const STRING: ArgType = { scalarType: "string", arity: "scalar" };
const INTEGER: ArgType = { scalarType: "bigint", arity: "scalar" };
const FLOAT: ArgType = { scalarType: "float", arity: "scalar" };

function toQuery(query: Sql, placeholders: "?" | "$n") {
  const args = query.values;
  return {
    sql: placeholders === "?" ? query.sql : query.text,
    args,
    argTypes: args.map((arg) =>
      typeof arg === "number" ? (Number.isInteger(arg) ? INTEGER : FLOAT) : STRING,
    ),
  };
}

function rows(result: SqlResultSet): Row[] {
  const { columnNames, rows: values } = result;
  const out: Row[] = new Array(values.length);
  for (let r = 0; r < values.length; r++) {
    const cells = values[r] as unknown[];
    const row: Row = {};
    for (let c = 0; c < columnNames.length; c++) row[columnNames[c] as string] = cells[c];
    out[r] = row;
  }
  return out;
}

/** The slice of a better-sqlite3 `Database` the statement cache uses. */
interface BetterSqlite3 {
  prepare(sql: string): BetterSqlite3Statement;
}

interface BetterSqlite3Statement {
  readonly reader: boolean;
  safeIntegers(on: boolean): BetterSqlite3Statement;
  all(...args: unknown[]): unknown[];
  run(...args: unknown[]): { changes: number };
}

/** The better-sqlite3 connection a `PrismaBetterSqlite3` adapter opened, if that is what this is. */
function betterSqlite3Of(adapter: SqlDriverAdapter): BetterSqlite3 | undefined {
  if (adapter.adapterName !== "@prisma/adapter-better-sqlite3") return undefined;
  const client = (adapter as unknown as { client?: Partial<BetterSqlite3> }).client;
  return typeof client?.prepare === "function" ? (client as BetterSqlite3) : undefined;
}

/** Most distinct statements kept compiled (lists of different lengths are different statements). */
const STATEMENT_CACHE = 500;

/**
 * SQLite through the connection Prisma's adapter opened, with each distinct statement compiled
 * once: the adapter compiles every statement it runs again, which costs more than running it
 * (a primary-key upsert compiles in tens of microseconds and runs in a few). The connection
 * is one, so a transaction is its BEGIN … COMMIT; `SqlContext` keeps other statements out of
 * it meanwhile.
 */
function statementCacheClient(adapter: SqlDriverAdapter, db: BetterSqlite3): SqlClient {
  const cache = new Map<string, BetterSqlite3Statement>();
  const statement = (text: string): BetterSqlite3Statement => {
    let stmt = cache.get(text);
    if (stmt === undefined) {
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
      stmt = db.prepare(text);
      if (stmt.reader) stmt.safeIntegers(false);
      cache.set(text, stmt);
    }
    return stmt;
  };
  const runner: SqlRunner = {
    $queryRaw: async <T>(query: Sql) => {
      const stmt = statement(query.sql);
      if (stmt.reader) return stmt.all(...query.values) as T;
      stmt.run(...query.values);
      return [] as T;
    },
    $executeRaw: async (query: Sql) => statement(query.sql).run(...query.values).changes,
  };
  return {
    ...runner,
    async $transaction<R>(fn: (tx: SqlRunner) => Promise<R>): Promise<R> {
      // IMMEDIATE: the write lock is taken at BEGIN, so another process's writer makes this one
      // wait (busy timeout) instead of failing when a read inside wants to become a write.
      statement("BEGIN IMMEDIATE").run();
      let result: R;
      try {
        result = await fn(runner);
      } catch (error) {
        statement("ROLLBACK").run();
        throw error;
      }
      statement("COMMIT").run();
      return result;
    },
    $disconnect: () => adapter.dispose(),
  };
}

/** The slice of a `pg.Pool` the prepared statements use. */
interface PgPool {
  query(config: {
    name?: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: Row[]; rowCount: number | null }>;
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** The pool a `PrismaPg` adapter opened, if that is what this is. */
function pgPoolOf(adapter: SqlDriverAdapter): PgPool | undefined {
  if (adapter.adapterName !== "@prisma/adapter-pg") return undefined;
  const driver = (adapter as unknown as { underlyingDriver?: () => Partial<PgPool> }).underlyingDriver?.();
  return typeof driver?.query === "function" ? (driver as PgPool) : undefined;
}

/** Statements with more parameters than this are lists of varying length: not worth a name each. */
const MAX_PREPARED_VALUES = 16;

/**
 * PostgreSQL through the pool Prisma's adapter opened, with the fixed-shape statements named,
 * so each connection parses and plans them once (as a prepared statement) instead of per call.
 * Transactions keep going through the adapter.
 */
function preparedRunner(pool: PgPool): SqlRunner {
  const names = new Map<string, string>();
  const nameOf = (query: Sql): string | undefined => {
    let name = names.get(query.text);
    if (name === undefined && query.values.length <= MAX_PREPARED_VALUES && names.size < STATEMENT_CACHE) {
      name = `tierkv_${names.size}`;
      names.set(query.text, name);
    }
    return name;
  };
  const run = (query: Sql) => {
    const name = nameOf(query);
    return pool.query({ ...(name !== undefined ? { name } : {}), text: query.text, values: query.values });
  };
  return {
    $queryRaw: async <T>(query: Sql) => (await run(query)).rows as T,
    $executeRaw: async (query: Sql) => (await run(query)).rowCount ?? 0,
  };
}
