import { loadConfig } from "../core/config.ts";
import { migrate } from "../engine/sql/migrate.ts";
import { parseDatabaseUrl } from "../engine/sql/url.ts";

/** `npm run db:migrate`: applies pending migrations to the database of `DATABASE_URL`. */
async function main(): Promise<void> {
  const target = parseDatabaseUrl(loadConfig().databaseUrl);
  const applied = await migrate(target);
  const where = target.provider === "sqlite" ? target.path : "PostgreSQL";
  console.log(applied.length === 0 ? `${where}: up to date` : `${where}: applied ${applied.join(", ")}`);
}

main().catch((error: unknown) => {
  console.error(`tierkv: migration failed: ${(error as Error).message}`);
  process.exit(1);
});
