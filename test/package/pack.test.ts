import { type ChildProcess, spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FULL_TOKEN } from "../helpers/harness.ts";
import { type Run, runProcess } from "../helpers/run-process.ts";

// The packages as people get them: both are built and packed, the tarballs are installed into
// fresh projects (from the npm cache where it has the dependencies), and this README's examples,
// the `tierkv` command and the embedded store run there from the installed files only.

const ROOT = join(import.meta.dirname, "..", "..");
const require = createRequire(import.meta.url);

/** Runs a command to completion with `env` on top of this process's environment. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<Run> {
  return runProcess(command, args, { ...options, env: { ...process.env, ...options.env } });
}

async function ok(command: string, args: string[], options: Parameters<typeof run>[2]): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited with ${result.code}:\n${result.stderr.slice(-3000)}`,
    );
  }
  return result.stdout;
}

const INSTALL = ["install", "--prefer-offline", "--no-audit", "--no-fund", "--omit=dev", "--ignore-scripts"];

/** A fresh project with `tarball` installed. */
async function project(dir: string, tarball: string, extra: Record<string, unknown> = {}): Promise<void> {
  mkdirSync(dir);
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "app", private: true, type: "module", ...extra }),
  );
  await ok("npm", [...INSTALL, tarball], { cwd: dir, timeoutMs: 180_000 });
}

/** README.md's ```ts blocks that import only Node and `tierkv-client`, as plain JavaScript. */
function clientExamples(): { line: number; js: string }[] {
  const text = readFileSync(join(ROOT, "README.md"), "utf8");
  const out: { line: number; js: string }[] = [];
  for (const match of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const code = match[1] as string;
    const modules = [...code.matchAll(/from "([^"]+)"/g)].map((m) => m[1] as string);
    if (!modules.some((m) => m.startsWith("tierkv-client"))) continue;
    if (!modules.every((m) => m.startsWith("node:") || /^tierkv-client(\/|$)/.test(m))) continue;
    const js = ts.transpileModule(code, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    out.push({ line: text.slice(0, match.index).split("\n").length, js });
  }
  return out;
}

/** The same example importing from the server package's SDK entry points instead. */
function fromServerPackage(js: string): string {
  return js.replace(/from "tierkv-client(\/[a-z]+)?"/g, (_whole, sub?: string) =>
    sub === undefined ? 'from "tierkv/client"' : `from "tierkv${sub}"`,
  );
}

/** Every module specifier the JavaScript files under `dir` import, by file. */
function bareImports(dir: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".js")) {
        const source = readFileSync(path, "utf8");
        // Static imports and re-exports start a line in tsc's output; dynamic ones are import("…").
        const statements =
          /^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|^import\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm;
        const specs = [...source.matchAll(statements)]
          .map((m) => (m[1] ?? m[2] ?? m[3]) as string)
          .filter((s) => !s.startsWith("."));
        if (specs.length > 0) found.set(relative(dir, path), specs);
      }
    }
  };
  walk(dir);
  return found;
}

describe("the packed packages, installed into fresh projects", () => {
  const work = mkdtempSync(join(tmpdir(), "tierkv-pack-"));
  const clientApp = join(work, "client-app");
  const serverApp = join(work, "server-app");
  const tarballs: Record<string, { path: string; files: string[] }> = {};
  let server: { url: string; child: ChildProcess; output: () => string } | undefined;

  beforeAll(async () => {
    // `npm pack` builds by itself (prepack); here the builds run first and the pack skips the
    // lifecycle scripts, so that no Prisma generation rewrites src/generated under other tests.
    await ok("npm", ["run", "build"], { cwd: ROOT, timeoutMs: 120_000 });
    await ok("npm", ["run", "build", "-w", "tierkv-client"], { cwd: ROOT, timeoutMs: 120_000 });
    const packed = JSON.parse(
      await ok(
        "npm",
        [
          "pack",
          "--ignore-scripts",
          "--workspaces",
          "--include-workspace-root",
          "--json",
          "--pack-destination",
          work,
        ],
        { cwd: ROOT },
      ),
    ) as { name: string; filename: string; files: { path: string }[] }[];
    for (const p of packed)
      tarballs[p.name] = { path: join(work, p.filename), files: p.files.map((f) => f.path) };

    // better-sqlite3 compiles its addon at install when no prebuilt binary can be fetched, which
    // takes about a minute: the server project installs without install scripts, at the
    // version this repository compiled, and takes that addon. All else comes from the tarballs.
    const sqlite = require.resolve("better-sqlite3/package.json");
    const sqliteVersion = (JSON.parse(readFileSync(sqlite, "utf8")) as { version: string }).version;
    await Promise.all([
      project(clientApp, tarballs["tierkv-client"]?.path as string),
      project(serverApp, tarballs.tierkv?.path as string, { overrides: { "better-sqlite3": sqliteVersion } }),
    ]);
    const addon = join("build", "Release", "better_sqlite3.node");
    mkdirSync(join(serverApp, "node_modules", "better-sqlite3", "build", "Release"), { recursive: true });
    copyFileSync(join(sqlite, "..", addon), join(serverApp, "node_modules", "better-sqlite3", addon));

    // `npx tierkv serve` from the installed package is the server of every example below.
    const child = spawn("npx", ["tierkv", "serve"], {
      cwd: serverApp,
      env: {
        ...process.env,
        DATABASE_URL: `file:${join(work, "kv.db")}`,
        KV_TOKEN: FULL_TOKEN,
        PORT: "0",
        KV_SWEEP_INTERVAL_MS: "0",
        KV_BROWSER: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tierkv serve did not start:\n${output}`)), 30_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code) => reject(new Error(`tierkv serve exited with ${code}:\n${output}`)));
    });
    server = { url, child, output: () => output };
  }, 300_000);

  afterAll(async () => {
    const child = server?.child;
    if (child?.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid, "SIGTERM");
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it("ship only their built files", () => {
    for (const name of ["tierkv", "tierkv-client"]) {
      const files = tarballs[name]?.files ?? [];
      expect(
        files.filter((f) => !f.startsWith("dist/") && f !== "package.json" && f !== "README.md"),
      ).toEqual([]);
      expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    }
    expect(tarballs.tierkv?.files).toContain("dist/cli/main.js");
  });

  it("install tierkv-client alone, importing nothing outside it but ioredis, from tierkv-client/redis", () => {
    const installed = readdirSync(join(clientApp, "node_modules")).filter((n) => !n.startsWith("."));
    expect(installed).toEqual(["tierkv-client"]);
    const imports = bareImports(join(clientApp, "node_modules", "tierkv-client", "dist"));
    expect(Object.fromEntries(imports)).toEqual({ [join("stores", "redis-store.js")]: ["ioredis"] });
  });

  const examples = clientExamples();
  it("find the README's client, store and cacher examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
    expect(examples.some(({ js }) => js.includes('from "tierkv-client/cacher"'))).toBe(true);
  });

  it.each(examples)(
    "run the README example at line $line as .mjs from tierkv-client and from tierkv",
    async ({ line, js }) => {
      const env = { KV_URL: server?.url as string, KV_TOKEN: FULL_TOKEN };
      for (const [dir, code] of [
        [clientApp, js],
        [serverApp, fromServerPackage(js)],
      ] as const) {
        const file = join(dir, `example-${line}.mjs`);
        writeFileSync(file, code);
        const result = await run(process.execPath, [file], { cwd: dir, env });
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
      }
    },
  );

  it("give a TypeScript project the types of tierkv-client", async () => {
    writeFileSync(
      join(clientApp, "check.ts"),
      [
        'import { createClient, NotFoundError } from "tierkv-client";',
        'import { createCacher } from "tierkv-client/cacher";',
        'import { createStore } from "tierkv-client/stores";',
        'const kv = createClient({ url: "http://127.0.0.1:8787" });',
        'const name: string | undefined = await kv.get<string>("k");',
        "// @ts-expect-error: a string is not a number",
        'const wrong: number | undefined = await kv.get<string>("k");',
        'const cache = createCacher(createStore({ url: "memory:" }), { ttlMs: 1_000 });',
        "export { cache, name, NotFoundError, wrong };",
        "",
      ].join("\n"),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const flags = ["--noEmit", "--strict", "--skipLibCheck", "false", "--module", "nodenext"];
    const types = [
      "--target",
      "es2022",
      "--types",
      "node",
      "--typeRoots",
      join(ROOT, "node_modules", "@types"),
    ];
    const result = await run(process.execPath, [tsc, ...flags, ...types, "check.ts"], { cwd: clientApp });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("serve the data browser's files from the installed package", async () => {
    for (const file of ["", "app.js", "style.css"]) {
      const res = await fetch(`${server?.url}/browser/${file}`);
      expect(res.status, file).toBe(200);
      expect((await res.text()).length, file).toBeGreaterThan(100);
    }
  });

  it("run tierkv commands from the installed package against npx tierkv serve", async () => {
    const env = { KV_URL: server?.url as string, KV_TOKEN: FULL_TOKEN };
    expect(
      await run("npx", ["tierkv", "set", "packed:k", '{"n":1}', "--ttl", "1m"], { cwd: serverApp, env }),
    ).toEqual({ code: 0, stdout: "OK\n", stderr: "" });
    expect((await run("npx", ["tierkv", "get", "packed:k"], { cwd: serverApp, env })).stdout).toBe(
      '{"n":1}\n',
    );
    expect(
      (await run("npx", ["tierkv", "get", "packed:none", "--json"], { cwd: serverApp, env })).stdout,
    ).toBe("null\n");
    const denied = await run("npx", ["tierkv", "get", "packed:k"], {
      cwd: serverApp,
      env: { ...env, KV_TOKEN: "not-the-token-0123456789" },
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/UNAUTHORIZED/);
    expect(denied.stderr).not.toContain("not-the-token-0123456789");
  });

  it("open the embedded SQLite store of tierkv/stores, migrations included", async () => {
    const file = join(serverApp, "embedded.mjs");
    writeFileSync(
      file,
      [
        'import assert from "node:assert/strict";',
        'import { createStore } from "tierkv/stores";',
        `const store = createStore({ url: ${JSON.stringify(`file:${join(work, "embedded.db")}`)} });`,
        'await store.set("user:1", { name: "Ada" });',
        'assert.deepEqual(await store.get("user:1"), { name: "Ada" });',
        "await store.close();",
        "",
      ].join("\n"),
    );
    const result = await run(process.execPath, [file], { cwd: serverApp });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(existsSync(join(work, "embedded.db"))).toBe(true);
  });
});
