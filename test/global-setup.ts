import pg from "pg";
import type { TestProject } from "vitest/node";

/** The PostgreSQL the suites use; `TEST_DATABASE_URL` overrides it. */
const PG_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string | null;
  }
}

/**
 * Finds out once whether PostgreSQL answers. Without it the PostgreSQL suites are skipped
 * with a notice, except under CI=true, where they are required and the run fails.
 */
export default async function setup(project: TestProject): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    project.provide("pgUrl", PG_URL);
  } catch (error) {
    if (process.env.CI === "true") {
      throw new Error(
        `CI=true and PostgreSQL did not answer (${(error as Error).message}): its suite is required`,
      );
    }
    console.warn(
      `\nNOTICE: PostgreSQL did not answer (${(error as Error).message}); skipping the PostgreSQL suites.\n`,
    );
    project.provide("pgUrl", null);
  } finally {
    await client.end().catch(() => {});
  }
}
