import type { Config } from "../core/config.ts";
import { UnavailableError } from "../core/errors.ts";

type Env = Record<string, string | undefined>;

/**
 * Refuses an SQLite database where the disk does not persist (Vercel, AWS Lambda): every cold
 * start would begin empty and each instance would hold its own data. The message names the
 * variable and the fix, never the URL.
 */
export function checkServerlessDatabase(config: Config, env: Env): Config {
  const platform = env.VERCEL ? "Vercel" : env.AWS_LAMBDA_FUNCTION_NAME ? "AWS Lambda" : undefined;
  if (platform !== undefined && config.databaseUrl.startsWith("file:")) {
    throw new UnavailableError(
      `DATABASE_URL must be a postgres:// or postgresql:// URL on ${platform}: a file: (SQLite) database would not persist there`,
    );
  }
  return config;
}

/**
 * Runs an instance's set-up, turning a configuration mistake (a bad variable, an unsupported
 * DATABASE_URL) into 503 UNAVAILABLE: it is the server's fault, not the caller's. The messages
 * name the variable, never its value.
 */
export function configured<T>(setUp: () => T): T {
  try {
    return setUp();
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    throw new UnavailableError(`the server is misconfigured: ${(error as Error).message}`, { cause: error });
  }
}
