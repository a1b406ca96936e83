import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../src");

/**
 * The layers of `src/`, lowest first: a module may import its own layer and the layers before
 * it, never one after it. The SDK (client, stores, cacher) sits beside the server's layers and
 * sees only the core and itself; its embedded stores may open the engine.
 */
const ALLOWED: Record<string, readonly string[]> = {
  core: ["core"],
  engine: ["core", "engine", "generated"],
  commands: ["core", "engine", "commands"],
  http: ["core", "engine", "commands", "http"],
  adapters: ["core", "engine", "commands", "http", "adapters", "generated"],
  client: ["core", "client"],
  cacher: ["core", "cacher", "stores"],
  stores: ["core", "client", "stores", "engine"],
  // The command line: the SDK for the client commands, the adapters for serve and migrate.
  cli: ["core", "client", "adapters", "cli"],
  "index.ts": ["core", "engine", "commands", "http", "adapters"],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "generated") return [];
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function layerOf(path: string): string {
  return relative(SRC, path).split("/")[0] as string;
}

/** The relative modules a file imports, statically or dynamically, with or without `type`. */
function imports(path: string): string[] {
  const source = readFileSync(path, "utf8");
  const found = [...source.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)].map((m) => m[1] as string);
  return found.map((spec) => resolve(dirname(path), spec));
}

describe("import direction", () => {
  const all = files(SRC);

  it("finds the layers it checks", () => {
    expect(new Set(all.map(layerOf))).toEqual(new Set(Object.keys(ALLOWED)));
  });

  it.each(all.map((path) => [relative(SRC, path), path]))(
    "%s imports only the layers below it",
    (_, path) => {
      const allowed = ALLOWED[layerOf(path)] ?? [];
      const wrong = imports(path)
        .map((target) => relative(SRC, target))
        .filter((target) => !allowed.includes(target.split("/")[0] as string));
      expect(wrong).toEqual([]);
    },
  );
});
