// The Worker on Cloudflare D1 (wrangler.toml `main`).
import type { D1Database } from "@cloudflare/workers-types";
import { PrismaD1 } from "@prisma/adapter-d1";
import { InternalError, UnavailableError } from "../core/errors.ts";
import type { SqlRunner } from "../engine/sql/context.ts";
import { SQLITE_DIALECT, type Sql } from "../engine/sql/dialect.ts";
import { adapterClient } from "../engine/sql/driver.ts";
import { type CloudflareEnv, createWorker } from "./cloudflare.ts";
import { migrateD1 } from "./d1-migrate.ts";

/** The bindings of the D1 Worker. */
export interface D1Env extends CloudflareEnv {
  /** The D1 database (`[[d1_databases]]` binding "DB"). */
  DB?: D1Database;
}

/** D1 refuses a statement that binds more parameters than this (local workerd allows more). */
const D1_MAX_BOUND_PARAMETERS = 100;

function checked(query: Sql): Sql {
  if (query.values.length > D1_MAX_BOUND_PARAMETERS) {
    throw new InternalError(`a statement binds ${query.values.length} parameters; D1 takes at most 100`);
  }
  return query;
}

let migrated = false;

export default createWorker<D1Env>({
  dialect: SQLITE_DIALECT,
  describe: "d1://DB",
  async withClient(env, _ctx, fn) {
    const db = env.DB;
    if (db === undefined) throw new UnavailableError("no D1 database is bound as DB (see wrangler.toml)");
    if (!migrated) {
      // Each request migrates until one has succeeded: a promise one request starts must not be
      // awaited by another, and the migration is idempotent.
      try {
        await migrateD1(db);
      } catch (error) {
        throw new UnavailableError("the database is unavailable", { cause: error });
      }
      migrated = true;
    }
    const client = adapterClient(await new PrismaD1(db).connect(), "?");
    const runner: SqlRunner = {
      $queryRaw: (query) => client.$queryRaw(checked(query)),
      $executeRaw: (query) => client.$executeRaw(checked(query)),
    };
    return fn({
      ...runner,
      // D1 has no interactive transactions (Prisma's D1 adapter refuses them): a hash write's
      // statements run one after another. Each is atomic; the README says what that means
      // for concurrent writers of one hash.
      $transaction: (work) => work(runner),
      $disconnect: async () => {},
    });
  },
});
