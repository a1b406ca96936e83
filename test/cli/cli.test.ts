import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/client/index.ts";
import { type TempSqlite, tempSqlite } from "../helpers/databases.ts";
import { FULL_TOKEN } from "../helpers/harness.ts";
import { type Run, runProcess } from "../helpers/run-process.ts";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.ts";

// `tierkv` as a user runs it: a process of its own against a server process of its own.

const ROOT = join(import.meta.dirname, "..", "..");
const MAIN = join(ROOT, "src", "cli", "main.ts");

/** Runs `tierkv ARGS` to completion with `env` on top of a clean environment. */
function tierkv(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { KV_URL: _url, KV_TOKEN: _token, ...inherited } = process.env;
  return runProcess(process.execPath, ["--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    env: { ...inherited, ...env },
  });
}

describe("tierkv CLI against a server process", () => {
  let db: TempSqlite;
  let server: ServerProcess;
  let env: Record<string, string>;
  const cli = (...args: string[]) => tierkv(args, env);

  beforeAll(async () => {
    db = tempSqlite();
    server = await startServerProcess({ DATABASE_URL: db.url, KV_TOKEN: FULL_TOKEN });
    env = { KV_URL: server.url, KV_TOKEN: FULL_TOKEN };
  });
  afterAll(async () => {
    await server?.stop();
    db?.remove();
  });

  it("sets and gets strings, JSON values and TTLs, in redis-cli's style and as JSON", async () => {
    expect(await cli("set", "greeting", "hello world")).toEqual({ code: 0, stdout: "OK\n", stderr: "" });
    expect((await cli("get", "greeting")).stdout).toBe('"hello world"\n');
    expect((await cli("get", "greeting", "--json")).stdout).toBe('"hello world"\n');

    await cli("set", "doc", '{"a":[1,2],"b":null}');
    expect((await cli("get", "doc")).stdout).toBe('{"a":[1,2],"b":null}\n');
    await cli("set", "num", "42");
    await cli("set", "text", "42", "--string");
    expect(await createClient({ url: server.url, token: FULL_TOKEN }).mGet(["num", "text"])).toEqual({
      num: 42,
      text: "42",
    });

    expect((await cli("set", "session", "x", "--ttl", "60s")).stdout).toBe("OK\n");
    const ttl = Number(/^\(integer\) (\d+)\n$/.exec((await cli("ttl", "session")).stdout)?.[1]);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect((await cli("ttl", "greeting")).stdout).toBe("(integer) -1\n");
    expect((await cli("expire", "greeting", "2m")).stdout).toBe("(integer) 1\n");
    expect(Number((await cli("ttl", "greeting", "--json")).stdout)).toBeGreaterThan(110_000);

    expect((await cli("set", "greeting", "again", "--nx")).stdout).toBe("(nil)\n");
    expect((await cli("set", "greeting", "again", "--nx", "--json")).stdout).toBe("false\n");
  });

  it("answers (nil) and null for a missing key, with exit code 0", async () => {
    expect(await cli("get", "missing:key")).toEqual({ code: 0, stdout: "(nil)\n", stderr: "" });
    expect(await cli("get", "missing:key", "--json")).toEqual({ code: 0, stdout: "null\n", stderr: "" });
    expect((await cli("hget", "missing:key", "f")).stdout).toBe("(nil)\n");
    expect((await cli("ttl", "missing:key")).stdout).toBe("(integer) -2\n");
    expect((await cli("exists", "missing:key")).stdout).toBe("(integer) 0\n");
    expect((await cli("del", "missing:key")).stdout).toBe("(integer) 0\n");
    expect((await cli("hgetall", "missing:key")).stdout).toBe("(empty array)\n");
  });

  it("counts, deletes and reads hashes", async () => {
    expect((await cli("incr", "points")).stdout).toBe("(integer) 1\n");
    expect((await cli("incr", "points", "10")).stdout).toBe("(integer) 11\n");
    expect((await cli("incr", "points", "-5")).stdout).toBe("(integer) 6\n");
    expect((await cli("decr", "points", "--json")).stdout).toBe("5\n");
    expect((await cli("hset", "user:1", "name", "Ann", "age", "30")).stdout).toBe("(integer) 2\n");
    expect((await cli("hget", "user:1", "age")).stdout).toBe("30\n");
    expect((await cli("hgetall", "user:1")).stdout).toBe('1) "age"\n2) 30\n3) "name"\n4) "Ann"\n');
    expect(JSON.parse((await cli("hgetall", "user:1", "--json")).stdout)).toEqual({ name: "Ann", age: 30 });
    expect((await cli("exists", "user:1")).stdout).toBe("(integer) 1\n");
    expect((await cli("hdel", "user:1", "age", "nope")).stdout).toBe("(integer) 1\n");
    expect(JSON.parse((await cli("hgetall", "user:1", "--json")).stdout)).toEqual({ name: "Ann" });
    expect((await cli("del", "user:1", "points", "nope")).stdout).toBe("(integer) 2\n");
  });

  it("sets and reads several keys at once", async () => {
    expect((await cli("mset", "m:a", '{"n":1}', "m:b", "two", "--ttl", "1m")).stdout).toBe("OK\n");
    expect((await cli("mget", "m:a", "m:none", "m:b")).stdout).toBe('1) {"n":1}\n2) (nil)\n3) "two"\n');
    expect((await cli("mget", "m:a", "m:none", "--json")).stdout).toBe('[{"n":1},null]\n');
    const ttl = Number((await cli("ttl", "m:b", "--json")).stdout);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const odd = await cli("mset", "m:a", "1", "m:b");
    expect(odd.code).toBe(2);
    expect(odd.stderr).toContain("usage: tierkv mset");
  });

  it("lists every key of a pattern, paging through the server's cursors", async () => {
    const kv = createClient({ url: server.url, token: FULL_TOKEN });
    const keys = Array.from({ length: 1_050 }, (_, i) => `page:${String(i).padStart(4, "0")}`);
    await kv.mSet(Object.fromEntries(keys.slice(0, 600).map((k) => [k, 1])));
    await kv.mSet(Object.fromEntries(keys.slice(600).map((k) => [k, 1])));
    const listed = await cli("keys", "page:*", "--json");
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(keys);
    const human = await cli("keys", "page:000?");
    expect(human.stdout.split("\n").slice(0, 2)).toEqual(['1) "page:0000"', '2) "page:0001"']);
    expect((await cli("keys", "none:*")).stdout).toBe("(empty array)\n");
  });

  it("reports the server's errors on stderr with exit code 1, never printing the token", async () => {
    await cli("set", "word", "hello");
    const wrongType = await cli("incr", "word");
    expect(wrongType).toMatchObject({ code: 1, stdout: "" });
    expect(wrongType.stderr).toBe("(error) NOT_INTEGER: value is not an integer\n");
    const asJson = await cli("incr", "word", "--json");
    expect(JSON.parse(asJson.stderr)).toEqual({
      error: { code: "NOT_INTEGER", message: expect.any(String) },
    });

    const wrongToken = "wrong-token-that-must-not-be-printed";
    for (const run of [
      await tierkv(["get", "word", "--token", wrongToken], { KV_URL: server.url }),
      await tierkv(["get", "word"], { KV_URL: server.url, KV_TOKEN: wrongToken }),
      await tierkv(["get", "word", "--json"], { KV_URL: server.url, KV_TOKEN: wrongToken }),
    ]) {
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/UNAUTHORIZED/);
      expect(run.stdout + run.stderr).not.toContain(wrongToken);
    }
    const noToken = await tierkv(["get", "word"], { KV_URL: server.url });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/UNAUTHORIZED/);

    // No server there: a clear error, not a stack trace.
    const down = await tierkv(["get", "word", "--url", "http://127.0.0.1:9"], { KV_TOKEN: FULL_TOKEN });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^\(error\) UNAVAILABLE: could not reach the tierkv server/);
    expect(down.stderr).not.toContain(FULL_TOKEN);
  });

  it("refuses a wrong command line with exit code 2 and says why", async () => {
    const cases: [string[], RegExp][] = [
      [["frobnicate", "k"], /unknown command "frobnicate"/],
      [["get"], /usage: tierkv get KEY/],
      [["get", "a", "b"], /usage: tierkv get KEY/],
      [["set", "k"], /usage: tierkv set KEY VALUE/],
      [["set", "k", "v", "--ttl", "soon"], /a TTL is a positive number with ms, s, m or h/],
      [["set", "k", "v", "--nx", "--xx"], /--nx and --xx exclude each other/],
      [["get", "k", "--ttl", "5s"], /--ttl applies to set and mset only/],
      [["hset", "k", "f"], /usage: tierkv hset KEY FIELD VALUE/],
      [["incr", "k", "1.5"], /BY must be an integer/],
      [["get", "k", "--bogus"], /Unknown option '--bogus'/],
      [[], /Usage: tierkv <command>/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(...args);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: "" });
      expect(run.stderr).toMatch(message);
    }
    const help = await cli("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 done/);
  });
});

describe("tierkv serve and tierkv migrate", () => {
  it("migrates an SQLite file once, then finds it up to date", async () => {
    const db = tempSqlite();
    try {
      const first = await tierkv(["migrate", "--database-url", db.url]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/: applied \d+_/);
      const again = await tierkv(["migrate"], { DATABASE_URL: db.url });
      expect(again.stdout).toMatch(/: up to date\n$/);
    } finally {
      db.remove();
    }
  });

  it("fails with exit code 1 when the server cannot start or the migration cannot run", async () => {
    const exposed = await tierkv(["serve", "--host", "0.0.0.0", "--port", "0"], { KV_TOKEN: "" });
    expect(exposed.code).toBe(1);
    expect(exposed.stdout + exposed.stderr).toMatch(
      /refusing to listen on non-loopback HOST without a token/,
    );
    const bad = await tierkv(["migrate", "--database-url", "mysql://somewhere/db"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tierkv: migration failed: /);
  });

  it("serves like npm start and stops on SIGTERM", async () => {
    const db = tempSqlite();
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, "serve", "--port", "0"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url, KV_TOKEN: FULL_TOKEN, KV_SWEEP_INTERVAL_MS: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      let output = "";
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
          if (match?.[1] !== undefined) resolve(match[1]);
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        void exited.then(() => reject(new Error(`tierkv serve exited:\n${output}`)));
      });
      expect((await tierkv(["set", "k", "v"], { KV_URL: url, KV_TOKEN: FULL_TOKEN })).stdout).toBe("OK\n");
      expect((await tierkv(["get", "k"], { KV_URL: url, KV_TOKEN: FULL_TOKEN })).stdout).toBe('"v"\n');
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      db.remove();
    }
  });
});
