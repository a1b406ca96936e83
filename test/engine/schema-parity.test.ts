import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

/** The models section of a schema, without comments and blank lines. */
function models(schema: string): string {
  const at = schema.indexOf("// --- models");
  expect(at, "the schema marks where its models start").toBeGreaterThan(0);
  return schema
    .slice(at)
    .split("\n")
    .map((line) => line.replace(/\/\/.*$/, "").trim())
    .filter((line) => line !== "")
    .join("\n");
}

describe("Prisma schemas", () => {
  const sqlite = read("prisma/sqlite/schema.prisma");
  const postgresql = read("prisma/postgresql/schema.prisma");

  it("model strings, hashes and locks identically for both providers", () => {
    expect(models(sqlite)).toBe(models(postgresql));
    for (const model of ["model Entry", "model HashField", "model Lock"])
      expect(models(sqlite)).toContain(model);
  });

  it("name their own provider, and so do the migration locks", () => {
    expect(sqlite).toMatch(/provider\s*=\s*"sqlite"/);
    expect(postgresql).toMatch(/provider\s*=\s*"postgresql"/);
    expect(read("prisma/sqlite/migrations/migration_lock.toml")).toMatch(/provider = "sqlite"/);
    expect(read("prisma/postgresql/migrations/migration_lock.toml")).toMatch(/provider = "postgresql"/);
  });
});
