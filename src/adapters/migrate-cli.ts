import { loadConfig } from "../core/config.ts";
import { migrate } from "../engine/sql/migrate.ts";
import { parseDatabaseUrl } from "../engine/sql/url.ts";
import { startedAsProgram } from "./entry.ts";

/**
 * `npm run db:migrate` and `tierkv migrate`: applies pending migrations to the database of
 * `DATABASE_URL`, and says what it did.
 */
export async function migrateDatabase(
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  const target = parseDatabaseUrl(loadConfig(env).databaseUrl);
  const applied = await migrate(target);
  const where = target.provider === "sqlite" ? target.path : "PostgreSQL";
  return applied.length === 0 ? `${where}: up to date` : `${where}: applied ${applied.join(", ")}`;
}

async function main(): Promise<void> {
  console.log(await migrateDatabase());
}

// Run when started as a program, not when imported (as `tierkv migrate` does).
if (startedAsProgram(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`tierkv: migration failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
