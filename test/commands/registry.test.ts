import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/commands/index.ts";
import { ENDPOINT_NAMES, NATIVE_API } from "../../src/core/api.ts";

const ROOT = join(import.meta.dirname, "../..");

describe("the command registry", () => {
  it("has one unit for every row of the native API, under the row's name", () => {
    expect(Object.keys(COMMANDS).sort()).toEqual([...ENDPOINT_NAMES].sort());
    for (const name of ENDPOINT_NAMES) {
      expect(COMMANDS[name].name).toBe(name);
      expect(COMMANDS[name].spec).toBe(NATIVE_API[name]);
    }
  });

  it("has a function file for every command and a command for every function file", () => {
    const files = readdirSync(join(ROOT, "functions/api/kv")).map((f) => f.replace(/\.ts$/, ""));
    expect(files.sort()).toEqual([...ENDPOINT_NAMES].sort());
    for (const name of ENDPOINT_NAMES) {
      const source = readFileSync(join(ROOT, "functions/api/kv", `${name}.ts`), "utf8");
      expect(source, `functions/api/kv/${name}.ts`).toContain(`createEndpointApp("${name}")`);
    }
  });

  it("routes every command, and nothing else, to its function on Vercel", () => {
    const config = JSON.parse(readFileSync(join(ROOT, "vercel.json"), "utf8")) as {
      routes: { src: string; dest: string }[];
    };
    const route = config.routes.find((r) => r.dest === "/functions/api/kv/$1.ts");
    const names = /^\^\/api\/kv\/\(([a-z|]+)\)\$$/.exec(route?.src ?? "")?.[1]?.split("|");
    expect(names?.sort()).toEqual([...ENDPOINT_NAMES].sort());
  });

  it("says which keys every write changes, and no read writes any", () => {
    for (const name of ENDPOINT_NAMES) {
      const command = COMMANDS[name];
      // Locks live in their own keyspace, so they touch no L1 entry; every other write names its keys.
      const touchesKeys = !command.spec.read && !["lock", "unlock", "extend"].includes(name);
      expect(command.writes !== undefined, name).toBe(touchesKeys);
      if (command.spec.cacheable) expect(command.spec.read, name).toBe(true);
    }
  });
});
