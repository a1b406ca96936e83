import type { Clock } from "../../core/types.ts";
import type { SqlClient } from "./context.ts";
import { POSTGRESQL_DIALECT, SQLITE_DIALECT } from "./dialect.ts";
import { adapterClient } from "./driver.ts";
import { migrate } from "./migrate.ts";
import { pgPoolOptions } from "./pg-options.ts";
import { PrismaStore } from "./prisma-store.ts";
import { type DatabaseTarget, parseDatabaseUrl } from "./url.ts";

/** Options of `openPrismaStore`. */
export interface OpenOptions {
  /** `file:…` or `postgres(ql)://…`. */
  url: string;
  clock?: Clock;
  /** Apply pending migrations before the first operation (default true). */
  migrate?: boolean;
  /** Most PostgreSQL connections this instance opens (default 10). */
  poolSize?: number;
  /** Longest wait for the database in ms (default 5,000): see `pgPoolOptions`. */
  timeoutMs?: number;
}

/**
 * Opens a `PrismaStore` on the database a URL names. Nothing touches the database until the
 * first operation, which first applies any pending migration (once per instance).
 */
export function openPrismaStore(options: OpenOptions): PrismaStore {
  const target = parseDatabaseUrl(options.url);
  let client: SqlClient | undefined;
  const lazyClient = lazy(() => createClient(target, options.poolSize ?? 10, options.timeoutMs ?? 5_000));
  const proxy: SqlClient = {
    $queryRaw: async (q) => (await lazyClient()).$queryRaw(q),
    $executeRaw: async (q) => (await lazyClient()).$executeRaw(q),
    $transaction: async (fn, o) => (await lazyClient()).$transaction(fn, o),
    $disconnect: async () => {
      if (client !== undefined) await client.$disconnect();
    },
    pool: () => client?.pool?.(),
  };
  return new PrismaStore({
    client: proxy,
    dialect: target.provider === "sqlite" ? SQLITE_DIALECT : POSTGRESQL_DIALECT,
    isolateTransactions: target.provider === "sqlite",
    ...(options.clock ? { clock: options.clock } : {}),
    prepare: async () => {
      if (options.migrate !== false) await migrate(target);
      client = await lazyClient();
    },
  });
}

function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
}

async function createClient(target: DatabaseTarget, poolSize: number, timeoutMs: number): Promise<SqlClient> {
  if (target.provider === "sqlite") {
    const { PrismaBetterSqlite3 } = await import("@prisma/adapter-better-sqlite3");
    // The busy timeout: how long a statement waits for another process's write transaction.
    const adapter = await new PrismaBetterSqlite3({ url: target.path, timeout: timeoutMs }).connect();
    // Per connection: enforce the hash fields' foreign key (so deleting a key drops its fields),
    // and sync the WAL at checkpoints only, which keeps every commit safe from a process crash.
    await adapter.executeScript("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;");
    return adapterClient(adapter, "?");
  }
  const { PrismaPg } = await import("@prisma/adapter-pg");
  // The statements find the tables through search_path.
  const adapter = await new PrismaPg(
    {
      connectionString: target.url,
      max: poolSize,
      idleTimeoutMillis: 30_000,
      ...pgPoolOptions(timeoutMs),
      ...(target.schema !== undefined ? { options: `-c search_path="${target.schema}"` } : {}),
    },
    target.schema !== undefined ? { schema: target.schema } : undefined,
  ).connect();
  return adapterClient(adapter, "$n");
}
