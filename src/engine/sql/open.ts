import type { Clock } from "../../core/types.ts";
import { POSTGRESQL_DIALECT, SQLITE_DIALECT } from "./dialect.ts";
import { migrate } from "./migrate.ts";
import { PrismaStore, type SqlClient } from "./prisma-store.ts";
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
}

/**
 * Opens a `PrismaStore` on the database a URL names. Nothing touches the database until the
 * first operation, which first applies any pending migration (once per instance).
 */
export function openPrismaStore(options: OpenOptions): PrismaStore {
  const target = parseDatabaseUrl(options.url);
  let client: SqlClient | undefined;
  const lazyClient = lazy(() => createClient(target, options.poolSize ?? 10));
  const proxy: SqlClient = {
    $queryRaw: async (q) => (await lazyClient()).$queryRaw(q),
    $executeRaw: async (q) => (await lazyClient()).$executeRaw(q),
    $transaction: async (fn, o) => (await lazyClient()).$transaction(fn, o),
    $disconnect: async () => {
      if (client !== undefined) await client.$disconnect();
    },
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

async function createClient(target: DatabaseTarget, poolSize: number): Promise<SqlClient> {
  if (target.provider === "sqlite") {
    const [{ PrismaClient }, { PrismaBetterSqlite3 }] = await Promise.all([
      import("../../generated/sqlite/client.ts"),
      import("@prisma/adapter-better-sqlite3"),
    ]);
    const adapter = new PrismaBetterSqlite3({ url: target.path, timeout: 15_000 });
    const client = new PrismaClient({ adapter });
    // Per connection: enforce the hash fields' foreign key (so deleting a key drops its fields),
    // and sync the WAL at checkpoints only, which keeps every commit safe from a process crash.
    await client.$executeRawUnsafe("PRAGMA foreign_keys = ON");
    await client.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    return client as unknown as SqlClient;
  }
  const [{ PrismaClient }, { PrismaPg }] = await Promise.all([
    import("../../generated/postgresql/client.ts"),
    import("@prisma/adapter-pg"),
  ]);
  // Raw statements find the tables through search_path; the query builder through `schema`.
  const adapter = new PrismaPg(
    {
      connectionString: target.url,
      max: poolSize,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      ...(target.schema !== undefined ? { options: `-c search_path="${target.schema}"` } : {}),
    },
    target.schema !== undefined ? { schema: target.schema } : undefined,
  );
  return new PrismaClient({ adapter }) as unknown as SqlClient;
}
