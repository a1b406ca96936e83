import { createHash } from "node:crypto";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import { type FreshDatabase, hasRedis, REDIS_URL, sqlDatabases } from "../helpers/databases.ts";
import { FULL_TOKEN, READ_TOKEN, startKvServer, uniqueId } from "../helpers/harness.ts";
import { startServerProcess } from "../helpers/server-process.ts";

// The same Lua scripts sent to a real Redis and to tierkv (its Redis protocol, over HTTP): the
// replies, error texts included, must be the same. Keys are the scripts' KEYS, bound to a
// fresh prefix on both sides.

type Answer = { result: unknown } | { error: string };

/** One case: a command line whose `@name` arguments are keys, run after `setup` lines. */
interface Case {
  name: string;
  line: (string | number)[];
  setup?: (string | number)[][];
}

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

const script = (body: string, keys: string[] = [], args: (string | number)[] = []) => [
  "EVAL",
  body,
  keys.length,
  ...keys,
  ...args,
];

const CASES: Case[] = [
  // Lua → Redis conversions.
  {
    name: "numbers truncate, true is 1, false nil, arrays stop at the first nil",
    line: script("return {1, 2.9, -2.9, 'x', true, false, {3, {4}}, nil, 'after nil'}"),
  },
  { name: "a float alone is an integer", line: script("return 3.99") },
  { name: "nil is nil", line: script("return nil") },
  { name: "an {ok} table is a status reply", line: script("return {ok = 'FINE'}") },
  { name: "an {err} table is an error reply", line: script("return {err = 'MYERR something failed'}") },
  { name: "redis.status_reply", line: script("return redis.status_reply('DONE')") },
  { name: "redis.error_reply", line: script("return redis.error_reply('ERR custom')") },
  { name: "redis.error_reply of no string", line: script("return redis.error_reply()") },
  {
    name: "KEYS and ARGV",
    line: script("return {KEYS[1], ARGV[1], ARGV[2], #KEYS, #ARGV}", ["@k"], ["a", 7]),
  },
  { name: "_G sees KEYS", line: script("return _G.KEYS[1]", ["@k"]) },
  // Redis → Lua conversions.
  {
    name: "a status reply is {ok}",
    line: script("local r = redis.call('SET', KEYS[1], 'v'); return {type(r), r.ok}", ["@k"]),
  },
  { name: "nil is false", line: script("return {type(redis.call('GET', KEYS[1]))}", ["@missing"]) },
  {
    name: "integers are numbers, bulk strings strings",
    line: script(
      "redis.call('SET', KEYS[1], '41'); local n = redis.call('INCR', KEYS[1]); return {type(n), n, type(redis.call('GET', KEYS[1]))}",
      ["@n"],
    ),
  },
  {
    name: "arrays are tables, their nils false",
    line: script(
      "redis.call('HSET', KEYS[1], 'a', 1, 'b', 2.5); local r = redis.call('HMGET', KEYS[1], 'a', 'zz', 'b'); return {#r, r[1], type(r[2]), r[3]}",
      ["@h"],
    ),
  },
  { name: "PING is a status", line: script("return redis.call('PING')") },
  {
    name: "TYPE is a status",
    line: script("redis.call('SET', KEYS[1], 1); return redis.call('TYPE', KEYS[1])", ["@t"]),
  },
  // Arguments a script passes.
  {
    name: "numbers as arguments print as Redis prints them",
    line: script(
      "redis.call('SET', KEYS[1], 0.1); redis.call('SET', KEYS[2], 10/2); redis.call('SET', KEYS[3], 1e20); redis.call('SET', KEYS[4], -7); return redis.call('MGET', KEYS[1], KEYS[2], KEYS[3], KEYS[4])",
      ["@a", "@b", "@c", "@d"],
    ),
  },
  { name: "no arguments", line: script("return redis.call()") },
  { name: "a table argument", line: script("return redis.call('GET', {})") },
  { name: "an unknown command", line: script("return redis.call('NOSUCH', 'x')") },
  { name: "an unknown command through pcall", line: script("return redis.pcall('NOSUCH')") },
  { name: "a wrong count of arguments", line: script("return redis.call('GET')") },
  { name: "a command scripts may not call", line: script("return redis.call('EVAL', 'return 1', '0')") },
  // Errors of commands.
  {
    name: "redis.call raises a command's error, with where",
    line: script("redis.call('SET', KEYS[1], 'abc')\nreturn redis.call('INCR', KEYS[1])", ["@s"]),
  },
  {
    name: "redis.pcall returns it as a table",
    line: script("redis.call('SET', KEYS[1], 'abc'); local r = redis.pcall('INCR', KEYS[1]); return r.err", [
      "@s",
    ]),
  },
  {
    name: "pcall catches what redis.call raises",
    line: script(
      "redis.call('SET', KEYS[1], 'abc'); local ok, e = pcall(redis.call, 'INCR', KEYS[1]); return {tostring(ok), e.err}",
      ["@s"],
    ),
  },
  {
    name: "WRONGTYPE from a script",
    line: script("redis.call('HSET', KEYS[1], 'f', 'v'); return redis.call('GET', KEYS[1])", ["@h"]),
  },
  { name: "a syntax error of SET", line: script("return redis.call('SET', KEYS[1], 'v', 'bad')", ["@k"]) },
  {
    name: "pcall answers an error table's text",
    line: script(
      "local ok, e = pcall(error, {err = 'x'}); local ok2, e2 = pcall(error, {foo = 1}); return {e, type(e2)}",
    ),
  },
  {
    name: "pcall of a function that calls a missing command",
    line: script("local ok, e = pcall(function() return redis.call('nosuch') end); return {tostring(ok), e}"),
  },
  // Errors of the script.
  { name: "error() with a string", line: script("local x = 1\nerror('boom')") },
  { name: "error() with an {err} table", line: script("\n\nerror({err = 'CUSTOM failure'})") },
  { name: "assigning a global", line: script("x = 1") },
  { name: "reading a missing global", line: script("return undefined_name") },
  { name: "os is not there", line: script("return os.time()") },
  { name: "io is not there", line: script("return io") },
  { name: "require is not there", line: script("return require('os')") },
  { name: "dofile is not there", line: script("return dofile('/etc/passwd')") },
  { name: "libraries are read-only", line: script("string.foo = 1") },
  // Lua 5.1's library where scripts rely on it.
  { name: "unpack", line: script("return {unpack({1, 2, 3})}") },
  { name: "tostring of a whole float", line: script("return tostring(10/2)") },
  { name: "math.floor", line: script("return math.floor(7/2)") },
  { name: "loadstring", line: script("return loadstring('return 1 + 1')()") },
  { name: "redis.sha1hex", line: script("return redis.sha1hex('abc')") },
  { name: "the Redis log levels", line: script("return {redis.LOG_DEBUG, redis.LOG_WARNING}") },
  // Lua 5.1's numbers: doubles, printed with %.14g.
  {
    name: "products beyond 32 bits",
    line: script("return {tostring(1000000 * 3000), 86400000 * 100, tostring(2^53)}"),
  },
  { name: "whole floats print as integers", line: script("return 'a' .. 10/2 .. ':' .. 0.1 .. ':' .. 1/3") },
  { name: "hex numerals", line: script("return tostring(0xFFFFFFFF)") },
  {
    name: "numbers read from strings",
    line: script("return tostring(tonumber(ARGV[1]) * 1000)", [], ["1700000000123"]),
  },
  {
    name: "counters beyond 32 bits",
    line: script(
      "redis.call('SET', KEYS[1], '5000000000'); return tostring(redis.call('INCR', KEYS[1]) * 2)",
      ["@c"],
    ),
  },
  // Redis's libraries.
  {
    name: "bit",
    line: script(
      "return {bit.band(0xFF, 0x0F), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.tobit(0xFFFFFFFF), bit.tohex(255), bit.tohex(-1, -4), bit.rol(0x80000001, 1), bit.bswap(0x12345678)}",
    ),
  },
  {
    name: "cjson.decode",
    line: script(
      "local t = cjson.decode(ARGV[1]); return {t.a[1], t.a[2], tostring(t.a[3].b == cjson.null), tostring(t.c), t.d, #t.a}",
      [],
      ['{"a":[1,2,{"b":null}],"c":1.5,"d":"x"}'],
    ),
  },
  {
    name: "cjson.encode of arrays, holes and scalars",
    line: script(
      "return {cjson.encode({1, 2, 'x', true}), cjson.encode({1, 2, nil, 4}), cjson.encode('s'), cjson.encode(0.5)}",
    ),
  },
  {
    name: "cjson.encode of an object, decoded again",
    line: script("local t = cjson.decode(cjson.encode({a = 1, b = {c = 'd'}})); return {t.a, t.b.c}"),
  },
  { name: "cjson.encode of a function", line: script("return cjson.encode(function() end)") },
  {
    name: "xpcall",
    line: script("return {xpcall(function() error('x') end, function(e) return 'handled' end)}"),
  },
  // numkeys.
  { name: "negative numkeys", line: ["EVAL", "return 1", -1] },
  { name: "numkeys beyond the arguments", line: ["EVAL", "return 1", 3, "a"] },
  { name: "numkeys not an integer", line: ["EVAL", "return 1", "1.5", "a"] },
  { name: "EVAL's arity", line: ["EVAL", "return 1"] },
  // Shebangs and read-only runs.
  {
    name: "no-writes refuses writes",
    line: script("#!lua flags=no-writes\nreturn redis.call('SET', KEYS[1], 'x')", ["@k"]),
  },
  {
    name: "no-writes reads",
    line: script("#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])", ["@k"]),
  },
  { name: "an unknown flag", line: script("#!lua flags=no-writes,bogus\nreturn 1") },
  { name: "an unknown engine", line: script("#!python\nreturn 1") },
  { name: "an unknown option", line: script("#!lua foo=bar\nreturn 1") },
  { name: "a shebang with no newline", line: script("#!lua") },
  { name: "EVAL_RO refuses writes", line: ["EVAL_RO", "return redis.call('SET', KEYS[1], 'x')", 1, "@k"] },
  { name: "EVAL_RO reads", line: ["EVAL_RO", "return redis.call('EXISTS', KEYS[1])", 1, "@k"] },
  { name: "EVAL_RO of a script declared writing", line: ["EVAL_RO", "#!lua\nreturn 1", 0] },
  // The script cache.
  { name: "EVALSHA of an unknown script", line: ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", 0] },
  { name: "EVALSHA of a malformed SHA", line: ["EVALSHA", "abc", 0] },
  { name: "SCRIPT LOAD answers the SHA1", line: ["SCRIPT", "LOAD", "return 'loaded'"] },
  {
    name: "EVALSHA after SCRIPT LOAD, in any case",
    setup: [["SCRIPT", "LOAD", "return ARGV[1]"]],
    line: ["evalsha", sha1("return ARGV[1]").toUpperCase(), 0, "hi"],
  },
  {
    name: "SCRIPT EXISTS",
    setup: [["SCRIPT", "LOAD", "return 'exists'"]],
    line: ["SCRIPT", "EXISTS", sha1("return 'exists'"), "ffffffffffffffffffffffffffffffffffffffff"],
  },
  { name: "SCRIPT with no subcommand arguments", line: ["SCRIPT", "EXISTS"] },
  { name: "an unknown SCRIPT subcommand", line: ["SCRIPT", "FOO"] },
  { name: "SCRIPT FLUSH with a bad option", line: ["SCRIPT", "FLUSH", "LATER"] },
  { name: "SCRIPT KILL with nothing running", line: ["SCRIPT", "KILL"] },
  { name: "a compile error", line: script("return (") },
  // What @upstash/ratelimit's scripts do.
  {
    name: "INCRBY, PEXPIRE and PTTL",
    line: script(
      "local r = redis.call('INCRBY', KEYS[1], ARGV[1]); if r == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end; local t = redis.call('PTTL', KEYS[1]); return {r, t > 0 and t <= tonumber(ARGV[2]) and 1 or 0}",
      ["@w"],
      [3, 60000],
    ),
  },
  {
    name: "HSET of numbers, HGETALL as a flat list",
    line: script(
      "local now = 1700000000123; redis.call('HSET', KEYS[1], 'refilledAt', now, 'tokens', 9 - 1); local f = redis.call('HGETALL', KEYS[1]); table.sort(f); return f",
      ["@b"],
    ),
  },
  {
    name: "SCAN with MATCH until the cursor is 0, then DEL",
    line: script(
      "for i = 1, 5 do redis.call('SET', KEYS[1] .. ':' .. i, i) end\nlocal found, cursor = {}, '0'\nrepeat\n  local r = redis.call('SCAN', cursor, 'MATCH', KEYS[1] .. ':*', 'COUNT', 2)\n  cursor = r[1]\n  for _, k in ipairs(r[2]) do found[#found + 1] = k end\nuntil cursor == '0'\nlocal n = 0\nfor _, k in ipairs(found) do n = n + redis.call('DEL', k) end\nreturn {#found, n}",
      ["@scan"],
    ),
  },
];

const redisUp = await hasRedis();

describe.skipIf(!redisUp).each(sqlDatabases("scripting"))(
  "Lua scripts on tierkv (%s) answer as Redis's do",
  (_, open) => {
    let db: FreshDatabase;
    let server: RunningServer;
    let redis: IORedis;

    beforeAll(async () => {
      db = open();
      server = await startKvServer({ env: { DATABASE_URL: db.url, KV_READONLY_TOKEN: READ_TOKEN } });
      redis = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
    });
    afterAll(async () => {
      redis?.disconnect();
      await server?.close();
      await db?.drop();
    });

    const onTierkv = async (line: unknown[], token = FULL_TOKEN): Promise<Answer> => {
      const response = await fetch(`${server.url}/api/redis`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
        body: JSON.stringify(line),
      });
      return (await response.json()) as Answer;
    };
    const onRedis = async (line: unknown[]): Promise<Answer> => {
      const [name, ...args] = line as [string, ...(string | number)[]];
      try {
        return { result: await redis.call(name, ...args) };
      } catch (error) {
        return { error: (error as Error).message };
      }
    };

    it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_, { line, setup = [] }) => {
      const prefix = `lua:${uniqueId()}:`;
      const bind = (items: (string | number)[]) =>
        items.map((item) =>
          typeof item === "string" && item.startsWith("@") ? prefix + item.slice(1) : item,
        );
      try {
        for (const step of setup) expect(await onTierkv(bind(step))).toEqual(await onRedis(bind(step)));
        const expected = await onRedis(bind(line));
        expect(await onTierkv(bind(line))).toEqual(expected);
      } finally {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
      }
    });

    it("lets the read-only token run EVAL_RO and EVALSHA_RO only", async () => {
      const read = "return redis.call('EXISTS', KEYS[1])";
      expect(await onTierkv(["EVAL_RO", read, 1, "ro:k"], READ_TOKEN)).toEqual({ result: 0 });
      expect(await onTierkv(["EVAL", read, 1, "ro:k"], READ_TOKEN)).toEqual({
        error: "NOPERM this user has no permissions to run the 'eval' command",
      });
      const { result: sha } = (await onTierkv(["SCRIPT", "LOAD", read])) as { result: string };
      expect(await onTierkv(["EVALSHA_RO", sha, 1, "ro:k"], READ_TOKEN)).toEqual({ result: 0 });
    });
  },
);

describe.each(sqlDatabases("scripting2"))(
  "Lua scripts on tierkv (%s): atomicity, limits and the script cache",
  (_, open) => {
    let db: FreshDatabase;
    let server: RunningServer;

    beforeAll(async () => {
      db = open();
      server = await startKvServer({ env: { DATABASE_URL: db.url, KV_SCRIPT_TIME_LIMIT_MS: "300" } });
    });
    afterAll(async () => {
      await server?.close();
      await db?.drop();
    });

    const send = async (line: unknown[], path = ""): Promise<Answer> => {
      const response = await fetch(`${server.url}/api/redis${path}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${FULL_TOKEN}` },
        body: JSON.stringify(line),
      });
      return (await response.json()) as Answer;
    };

    it("stops a script that runs past the limit, undoes its writes, and keeps serving", async () => {
      const key = `runaway:${uniqueId()}`;
      for (const body of [
        "redis.call('SET', KEYS[1], 'half') while true do end",
        "redis.call('SET', KEYS[1], 'half') while true do pcall(function() while true do end end) end",
        "redis.call('SET', KEYS[1], 'half') pcall(error, 'caught') while true do end",
      ]) {
        const started = Date.now();
        const answer = await send(["EVAL", body, 1, key]);
        expect(Date.now() - started).toBeLessThan(3_000);
        expect((answer as { error: string }).error).toMatch(
          /^ERR Script killed: it ran for longer than 300 ms/,
        );
        expect(await send(["EXISTS", key])).toEqual({ result: 0 });
      }
      expect(await send(["PING"])).toEqual({ result: "PONG" });
    });

    it("runs concurrent read-modify-write scripts over one key one at a time", async () => {
      const key = `rmw:${uniqueId()}`;
      const body =
        "local v = tonumber(redis.call('GET', KEYS[1]) or '0') + 1; redis.call('SET', KEYS[1], v); return v";
      const answers = await Promise.all(Array.from({ length: 40 }, () => send(["EVAL", body, 1, key])));
      const values = answers.map((a) => (a as { result: number }).result).sort((x, y) => x - y);
      expect(values).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await send(["GET", key])).toEqual({ result: "40" });
    });

    it("shows a script's writes of undeclared keys to this instance's reads at once", async () => {
      const key = `l1:${uniqueId()}`;
      const get = () =>
        fetch(`${server.url}/api/kv/get?key=${key}`, { headers: { Authorization: `Bearer ${FULL_TOKEN}` } });
      await send(["SET", key, "before"]);
      expect(await (await get()).json()).toEqual({ result: "before" });
      expect((await get()).headers.get("X-KV-Cache")).toBe("HIT");
      expect(await send(["EVAL", "return redis.call('SET', ARGV[1], 'after')", 0, key])).toEqual({
        result: "OK",
      });
      expect(await (await get()).json()).toEqual({ result: "after" });
    });

    it("runs a script inside MULTI/EXEC", async () => {
      const key = `tx:${uniqueId()}`;
      expect(
        await send(
          [
            ["SET", key, "1"],
            ["EVAL", "return redis.call('INCR', KEYS[1])", 1, key],
          ],
          "/multi-exec",
        ),
      ).toEqual([{ result: "OK" }, { result: 2 }]);
    });

    it("keeps scripts for EVALSHA on another instance of the same database", async () => {
      const body = `return 'cached ${uniqueId()}'`;
      const { result: sha } = (await send(["SCRIPT", "LOAD", body])) as { result: string };
      const other = await startServerProcess({ DATABASE_URL: db.url, KV_TOKEN: FULL_TOKEN });
      try {
        const onOther = async (line: unknown[]) =>
          (await fetch(`${other.url}/api/redis`, {
            method: "POST",
            headers: { Authorization: `Bearer ${FULL_TOKEN}` },
            body: JSON.stringify(line),
          }).then((r) => r.json())) as Answer;
        expect(await onOther(["SCRIPT", "EXISTS", sha])).toEqual({ result: [1] });
        expect(await onOther(["EVALSHA", sha, 0])).toEqual({ result: body.slice(8, -1) });
        expect(await onOther(["SCRIPT", "FLUSH"])).toEqual({ result: "OK" });
        expect(await onOther(["EVALSHA", sha, 0])).toEqual({
          error: "NOSCRIPT No matching script. Please use EVAL.",
        });
      } finally {
        await other.stop();
      }
    }, 60_000);
  },
);
