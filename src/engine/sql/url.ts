import { BadRequestError } from "../../core/errors.ts";

/** Where the data lives, as told by `DATABASE_URL`. */
export type DatabaseTarget =
  | { provider: "sqlite"; path: string }
  | { provider: "postgresql"; url: string; schema: string | undefined };

/**
 * Reads a `DATABASE_URL`: `file:` for SQLite, `postgres://` or `postgresql://` for PostgreSQL
 * (a `?schema=` parameter selects the schema, as in Prisma). The error never repeats the URL,
 * which may hold a password.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith("file:")) {
    const path =
      url
        .slice("file:".length)
        .replace(/^\/\/(?=\/)/, "")
        .split("?")[0] ?? "";
    if (path === "") throw new BadRequestError("DATABASE_URL names no SQLite file");
    return { provider: "sqlite", path };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new BadRequestError("DATABASE_URL is not a valid PostgreSQL URL");
    }
    const schema = parsed.searchParams.get("schema") ?? undefined;
    if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw new BadRequestError("the schema parameter of DATABASE_URL must be a plain identifier");
    }
    parsed.searchParams.delete("schema");
    return { provider: "postgresql", url: parsed.toString(), schema };
  }
  throw new BadRequestError("DATABASE_URL must start with file:, postgres:// or postgresql://");
}
