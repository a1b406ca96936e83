import type { ArgType, SqlDriverAdapter, SqlQueryable, SqlResultSet } from "@prisma/driver-adapter-utils";
import type { Row, SqlClient, SqlRunner } from "./context.ts";
import type { Sql } from "./dialect.ts";

/**
 * A `SqlClient` straight on a Prisma driver adapter (`PrismaBetterSqlite3`, `PrismaPg`,
 * `PrismaD1` once connected): the statements go to the adapter's `queryRaw`/`executeRaw`
 * without `PrismaClient`'s raw-query layer, which costs several times the statement itself on
 * a primary-key read. Prisma still owns the schema, the migrations and the drivers.
 */
export function adapterClient(adapter: SqlDriverAdapter, placeholders: "?" | "$n"): SqlClient {
  const runner = (queryable: SqlQueryable): SqlRunner => ({
    $queryRaw: async <T>(query: Sql) => rows(await queryable.queryRaw(toQuery(query, placeholders))) as T,
    $executeRaw: (query: Sql) => queryable.executeRaw(toQuery(query, placeholders)),
  });
  const direct = runner(adapter);
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
        await tx.executeRaw({ sql: "ROLLBACK", args: [], argTypes: [] }).catch(() => {});
        await tx.rollback();
        throw error;
      }
      await tx.commit();
      return result;
    },
    $disconnect: () => adapter.dispose(),
  };
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
