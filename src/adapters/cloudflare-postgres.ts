// The Worker on PostgreSQL (wrangler.toml `[env.postgres]`): `DATABASE_URL` as a secret, or a
// Hyperdrive binding named HYPERDRIVE in front of the same database.
import { PrismaPg } from "@prisma/adapter-pg";
import { loadConfig } from "../core/config.ts";
import { UnavailableError } from "../core/errors.ts";
import { POSTGRESQL_DIALECT } from "../engine/sql/dialect.ts";
import { adapterClient } from "../engine/sql/driver.ts";
import { pgPoolOptions } from "../engine/sql/pg-options.ts";
import { parseDatabaseUrl } from "../engine/sql/url.ts";
import { type CloudflareEnv, createWorker, variables } from "./cloudflare.ts";

/** The variables and bindings of the PostgreSQL Worker. */
export interface PostgresEnv extends CloudflareEnv {
  DATABASE_URL?: string;
  HYPERDRIVE?: { connectionString: string };
}

export default createWorker<PostgresEnv>({
  dialect: POSTGRESQL_DIALECT,
  describe: "postgresql://",
  async withClient(env, ctx, fn) {
    const url = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL;
    if (url === undefined || url === "") {
      throw new UnavailableError("set DATABASE_URL (a secret) or bind HYPERDRIVE to use PostgreSQL");
    }
    const target = parseDatabaseUrl(url);
    if (target.provider !== "postgresql") {
      throw new UnavailableError("DATABASE_URL must be a postgres:// or postgresql:// URL on Cloudflare");
    }
    // One connection per request, closed after it: Hyperdrive (or a pooler) keeps them warm.
    // The schema comes from `npm run db:migrate`, run where the database is reachable.
    const adapter = await new PrismaPg({
      connectionString: target.url,
      max: 1,
      ...pgPoolOptions(loadConfig(variables(env)).dbTimeoutMs),
      ...(target.schema !== undefined ? { options: `-c search_path="${target.schema}"` } : {}),
    }).connect();
    try {
      return await fn(adapterClient(adapter, "$n"));
    } finally {
      ctx.waitUntil(adapter.dispose());
    }
  },
});
