import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import { createClient } from "../../src/client/index.ts";
import { type FreshDatabase, sqlDatabases, tempSqlite } from "../helpers/databases.ts";
import { FULL_TOKEN, READ_TOKEN, startKvServer, uniqueId } from "../helpers/harness.ts";

// The real @upstash/redis client, unchanged, against the real Node server over HTTP: only its
// URL and token point at tierkv.

describe.each(sqlDatabases("upstash"))("@upstash/redis against tierkv on %s", (_, open) => {
  let db: FreshDatabase;
  let server: RunningServer;
  let redis: Redis;
  let base: string;
  const k = (name: string) => `${name}:${uniqueId()}`;

  beforeAll(async () => {
    db = open();
    server = await startKvServer({ env: { DATABASE_URL: db.url, KV_READONLY_TOKEN: READ_TOKEN } });
    base = `${server.url}/api/redis`;
    redis = new Redis({ url: base, token: FULL_TOKEN });
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  describe("strings and counters", () => {
    it("sets and gets strings, with the client's JSON deserialization", async () => {
      const a = k("a");
      expect(await redis.set(a, "hello")).toBe("OK");
      expect(await redis.get(a)).toBe("hello");
      expect(await redis.set(a, { user: 1 })).toBe("OK");
      expect(await redis.get(a)).toEqual({ user: 1 });
      expect(await redis.get(k("missing"))).toBeNull();
      expect(await redis.set(a, "ünïcødé ✓")).toBe("OK");
      expect(await redis.get(a)).toBe("ünïcødé ✓");
    });

    it("honours SET's NX, XX, EX, PX, EXAT and PXAT", async () => {
      const a = k("opts");
      expect(await redis.set(a, "1", { xx: true })).toBeNull();
      expect(await redis.set(a, "1", { nx: true })).toBe("OK");
      expect(await redis.set(a, "2", { nx: true })).toBeNull();
      expect(await redis.set(a, "3", { xx: true })).toBe("OK");
      expect(await redis.get(a)).toBe(3);
      await redis.set(a, "x", { ex: 100 });
      expect(await redis.ttl(a)).toBe(100);
      await redis.set(a, "x", { px: 50_000 });
      expect(await redis.pttl(a)).toBeGreaterThan(49_000);
      await redis.set(a, "x", { exat: Math.floor(Date.now() / 1000) + 200 });
      expect(await redis.ttl(a)).toBeGreaterThan(198);
      await redis.set(a, "x", { pxat: Date.now() + 300_000 });
      expect(await redis.ttl(a)).toBeGreaterThan(298);
      await redis.set(a, "x", { exat: Math.floor(Date.now() / 1000) - 10 });
      expect(await redis.exists(a)).toBe(0);
    });

    it("runs SETEX, PSETEX, SETNX, MSET and MGET", async () => {
      const [a, b, c] = [k("a"), k("b"), k("c")];
      expect(await redis.setex(a, 60, "v")).toBe("OK");
      expect(await redis.ttl(a)).toBe(60);
      expect(await redis.psetex(b, 60_000, "w")).toBe("OK");
      expect(await redis.setnx(b, "again")).toBe(0);
      expect(await redis.setnx(c, "first")).toBe(1);
      expect(await redis.mset({ [a]: "1", [b]: "two" })).toBe("OK");
      expect(await redis.mget(a, b, c, k("none"))).toEqual([1, "two", "first", null]);
      expect(await redis.ttl(a)).toBe(-1);
    });

    it("counts with INCR, INCRBY, DECR and DECRBY, and refuses what is not an integer", async () => {
      const n = k("n");
      expect(await redis.incr(n)).toBe(1);
      expect(await redis.incrby(n, 10)).toBe(11);
      expect(await redis.decr(n)).toBe(10);
      expect(await redis.decrby(n, 15)).toBe(-5);
      expect(await redis.get(n)).toBe(-5);
      await redis.set(n, "12");
      expect(await redis.incr(n)).toBe(13);
      await redis.set(n, "1.5");
      await expect(redis.incr(n)).rejects.toThrow("ERR value is not an integer or out of range");
      expect(await redis.get(n)).toBe(1.5);
    });

    it("measures and slices the stored bytes with STRLEN and GETRANGE", async () => {
      const s = k("s");
      await redis.set(s, "héllo world");
      expect(await redis.strlen(s)).toBe(12);
      expect(await redis.getrange(s, 0, 5)).toBe("héllo");
      expect(await redis.getrange(s, -5, -1)).toBe("world");
      expect(await redis.strlen(k("none"))).toBe(0);
    });
  });

  describe("keys", () => {
    it("deletes, counts, types and expires keys", async () => {
      const [a, b, h] = [k("a"), k("b"), k("h")];
      await redis.mset({ [a]: "1", [b]: "2" });
      await redis.hset(h, { f: "v" });
      expect(await redis.exists(a, b, a, k("none"))).toBe(3);
      expect(await redis.type(a)).toBe("string");
      expect(await redis.type(h)).toBe("hash");
      expect(await redis.type(k("none"))).toBe("none");
      expect(await redis.expire(a, 30)).toBe(1);
      expect(await redis.ttl(a)).toBe(30);
      expect(await redis.pexpire(b, 20_000)).toBe(1);
      expect(await redis.pttl(b)).toBeLessThanOrEqual(20_000);
      const at = Math.floor(Date.now() / 1000) + 500;
      expect(await redis.expireat(h, at)).toBe(1);
      expect(await redis.exec(["EXPIRETIME", h])).toBe(at);
      expect(await redis.pexpireat(b, at * 1000)).toBe(1);
      expect(await redis.expire(k("none"), 10)).toBe(0);
      expect(await redis.ttl(k("none"))).toBe(-2);
      expect(await redis.expire(b, -1)).toBe(1);
      expect(await redis.exists(b)).toBe(0);
      expect(await redis.del(a, h, k("none"))).toBe(2);
      expect(await redis.unlink(a)).toBe(0);
    });

    it("lists keys with KEYS and SCAN (MATCH, COUNT, TYPE) until the cursor comes back to 0", async () => {
      const prefix = k("scan");
      await redis.mset(
        Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`${prefix}:s${i}`, String(i)])),
      );
      await redis.hset(`${prefix}:hash`, { f: "1" });
      expect((await redis.keys(`${prefix}:*`)).length).toBe(26);
      const seen: string[] = [];
      let cursor: string | number = 0;
      let calls = 0;
      do {
        const [next, keys]: [string | number, string[]] = await redis.scan(cursor, {
          match: `${prefix}:*`,
          count: 10,
        });
        seen.push(...keys);
        cursor = next;
        calls++;
      } while (String(cursor) !== "0");
      expect(calls).toBeGreaterThanOrEqual(3);
      expect(new Set(seen).size).toBe(26);
      const [, hashes] = await redis.scan(0, { match: `${prefix}:*`, count: 1000, type: "hash" });
      expect(hashes).toEqual([`${prefix}:hash`]);
    });
  });

  describe("hashes", () => {
    it("runs the hash commands", async () => {
      const h = k("h");
      expect(await redis.hset(h, { a: "1", b: "two", c: "3" })).toBe(3);
      expect(await redis.hset(h, { a: "one" })).toBe(0);
      expect(await redis.hmset(h, { d: "4" })).toBe("OK");
      expect(await redis.hget(h, "a")).toBe("one");
      expect(await redis.hget(h, "zz")).toBeNull();
      expect(await redis.hmget(h, "a", "c", "zz")).toEqual({ a: "one", c: 3, zz: null });
      expect(await redis.hgetall(h)).toEqual({ a: "one", b: "two", c: 3, d: 4 });
      expect(await redis.hlen(h)).toBe(4);
      expect((await redis.hkeys(h)).sort()).toEqual(["a", "b", "c", "d"]);
      expect(await redis.hvals(h)).toHaveLength(4);
      expect(await redis.hexists(h, "b")).toBe(1);
      expect(await redis.hexists(h, "zz")).toBe(0);
      expect(await redis.hstrlen(h, "b")).toBe(3);
      expect(await redis.hincrby(h, "c", 5)).toBe(8);
      expect(await redis.hdel(h, "a", "zz")).toBe(1);
      expect(await redis.hgetall(k("none"))).toBeNull();
    });

    it("answers WRONGTYPE across types", async () => {
      const s = k("s");
      await redis.set(s, "string");
      await expect(redis.hget(s, "f")).rejects.toThrow(
        "WRONGTYPE Operation against a key holding the wrong kind of value",
      );
      await expect(redis.hset(s, { f: "v" })).rejects.toThrow("WRONGTYPE");
      const h = k("h");
      await redis.hset(h, { f: "v" });
      await expect(redis.get(h)).rejects.toThrow("WRONGTYPE");
    });
  });

  describe("the wire", () => {
    it("reads through L1 although the client's fetch sends Cache-Control: no-cache", async () => {
      const a = k("l1");
      await redis.set(a, "v");
      const read = () =>
        fetch(base, {
          method: "POST",
          headers: { Authorization: `Bearer ${FULL_TOKEN}` },
          body: JSON.stringify(["GET", a]),
          cache: "no-store",
        });
      await read();
      const second = await read();
      expect(await second.json()).toEqual({ result: "v" });
      expect(second.headers.get("x-kv-cache")).toBe("HIT");
      expect(second.headers.get("upstash-sync-token")).toMatch(/^\d+-\d+-[0-9a-z]+$/);
    });

    it("answers PING, ECHO and TIME", async () => {
      expect(await redis.ping()).toBe("PONG");
      expect(await redis.ping(["hey"])).toBe("hey");
      expect(await redis.echo("hi")).toBe("hi");
      const [seconds, micros] = await redis.time();
      expect(Math.abs(Number(seconds) - Date.now() / 1000)).toBeLessThan(5);
      expect(Number(micros)).toBeLessThan(1_000_000);
    });

    it("answers Redis's errors for unknown commands and wrong arity", async () => {
      await expect(redis.exec(["FOO", "bar"])).rejects.toThrow(
        "ERR unknown command 'FOO', with args beginning with: 'bar' ",
      );
      await expect(redis.exec(["GET"])).rejects.toThrow("ERR wrong number of arguments for 'get' command");
      await expect(redis.exec(["set", "k", "v", "EX", "0"])).rejects.toThrow(
        "ERR invalid expire time in 'set' command",
      );
      await expect(redis.exec(["set", "k", "v", "NX", "XX"])).rejects.toThrow("ERR syntax error");
    });

    it("runs explicit pipelines in order, with errors inline and keepErrors", async () => {
      const [a, s] = [k("a"), k("s")];
      const p = redis.pipeline();
      p.set(a, "1");
      p.incr(a);
      p.set(s, "text");
      p.incr(s);
      p.get(a);
      const results = await p.exec({ keepErrors: true });
      expect(results.map((r) => r.result)).toEqual(["OK", 2, "OK", undefined, 2]);
      expect(results[3]?.error).toBe("ERR value is not an integer or out of range");
      const failing = redis.pipeline();
      failing.incr(s);
      await expect(failing.exec()).rejects.toThrow("ERR value is not an integer or out of range");
    });

    it("runs multi() as one transaction, with runtime errors in their slots", async () => {
      const [a, s] = [k("tx-a"), k("tx-s")];
      const tx = redis.multi();
      tx.set(a, "1");
      tx.incr(a);
      tx.set(s, "text");
      tx.get(a);
      expect(await tx.exec()).toEqual(["OK", 2, "OK", 2]);
      const failing = redis.multi();
      failing.incr(s);
      failing.incr(a);
      const results = await failing.exec({ keepErrors: true });
      expect(results[0]?.error).toBe("ERR value is not an integer or out of range");
      expect(results[1]?.result).toBe(3);
    });

    it("discards a transaction holding a command that fails its checks (EXECABORT)", async () => {
      const a = k("tx-abort");
      const response = await fetch(`${base}/multi-exec`, {
        method: "POST",
        headers: { Authorization: `Bearer ${FULL_TOKEN}` },
        body: JSON.stringify([["SET", a, "1"], ["GET"], ["SET", a, "2"]]),
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: string };
      expect(body.error).toMatch(/^EXECABORT Transaction discarded because of previous errors/);
      expect(await redis.exists(a)).toBe(0);
    });

    it("never interleaves concurrent transactions over the same keys", async () => {
      const [a, b] = [k("iso-a"), k("iso-b")];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const tx = redis.multi();
          tx.set(a, String(i));
          tx.incr(`${a}:n`);
          tx.set(b, String(i));
          return tx.exec();
        }),
      );
      expect(await redis.get(a)).toBe(await redis.get(b));
      expect(await redis.get(`${a}:n`)).toBe(20);
    });

    it("auto-pipelines concurrent commands, each answered its own", async () => {
      const n = k("auto");
      const answers = await Promise.all(Array.from({ length: 30 }, () => redis.incr(n)));
      expect([...answers].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      const [v, missing, t] = await Promise.all([redis.get(n), redis.get(k("none")), redis.type(n)]);
      expect([v, missing, t]).toEqual([30, null, "string"]);
    });

    it("works without base64 and without the client's deserialization", async () => {
      const plain = new Redis({
        url: base,
        token: FULL_TOKEN,
        responseEncoding: false,
        automaticDeserialization: false,
      });
      const a = k("plain");
      await plain.set(a, "5");
      expect(await plain.get(a)).toBe("5");
      await plain.set(a, "x y ✓");
      expect(await plain.get(a)).toBe("x y ✓");
      expect(await plain.ping()).toBe("PONG");
      await plain.hset(`${a}h`, { f: "1" });
      expect(await plain.hgetall(`${a}h`)).toEqual(["f", "1"]);
    });

    it("lets the read-only token read and refuses it every write with NOPERM", async () => {
      const a = k("ro");
      await redis.set(a, "v");
      const reader = new Redis({ url: base, token: READ_TOKEN });
      expect(await reader.get(a)).toBe("v");
      await expect(reader.set(a, "w")).rejects.toThrow(
        "NOPERM this user has no permissions to run the 'set' command",
      );
      await expect(reader.exec(["DEL", a])).rejects.toThrow("NOPERM");
      expect(await redis.get(a)).toBe("v");
    });

    it("refuses a wrong or missing token with 401 Unauthorized", async () => {
      const wrong = new Redis({ url: base, token: "not-the-token", retry: false });
      await expect(wrong.get("x")).rejects.toThrow("Unauthorized");
      const response = await fetch(base, { method: "POST", body: JSON.stringify(["PING"]) });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: "Unauthorized" });
    });
  });

  describe("commands that read and write in one atomic step", () => {
    it("runs GETDEL, GETSET, GETEX, SET … GET and KEEPTTL, APPEND, SETRANGE, MSETNX, INCRBYFLOAT", async () => {
      const [a, b, c] = [k("a"), k("b"), k("c")];
      await redis.set(a, "hello", { ex: 100 });
      expect(await redis.append(a, " world")).toBe(11);
      expect(await redis.ttl(a)).toBeGreaterThan(98);
      expect(await redis.setrange(a, 6, "there")).toBe(11);
      expect(await redis.get(a)).toBe("hello there");
      expect(await redis.set(a, "next", { keepTtl: true, get: true })).toBe("hello there");
      expect(await redis.ttl(a)).toBeGreaterThan(98);
      expect(await redis.getex(a, { persist: true })).toBe("next");
      expect(await redis.ttl(a)).toBe(-1);
      expect(await redis.getset(a, "third")).toBe("next");
      expect(await redis.getdel(a)).toBe("third");
      expect(await redis.exists(a)).toBe(0);
      expect(await redis.msetnx({ [b]: "1", [c]: "2" })).toBe(1);
      expect(await redis.msetnx({ [c]: "3", [a]: "4" })).toBe(0);
      expect(await redis.exists(a)).toBe(0);
      expect(await redis.incrbyfloat(b, 0.1)).toBe(1.1);
      // Redis's long double arithmetic, exactly: 1.1 + 250 is 251.10000000000000001 there too.
      expect(String(await redis.incrbyfloat(b, 250))).toBe("251.10000000000000001");
    });

    it("runs PERSIST, RENAME, RENAMENX, COPY and EXPIRE's conditions", async () => {
      const [a, b, h] = [k("a"), k("b"), k("h")];
      await redis.hset(h, { f: "1", g: "2" });
      await redis.expire(h, 500);
      expect(await redis.expire(h, 100, "GT")).toBe(0);
      expect(await redis.expire(h, 100, "LT")).toBe(1);
      expect(await redis.expire(h, 100, "NX")).toBe(0);
      expect(await redis.copy(h, a)).toBe("COPIED");
      expect(await redis.hgetall(a)).toEqual({ f: 1, g: 2 });
      expect(await redis.ttl(a)).toBeGreaterThan(98);
      expect(await redis.persist(a)).toBe(1);
      expect(await redis.ttl(a)).toBe(-1);
      expect(await redis.rename(a, b)).toBe("OK");
      expect(await redis.exists(a)).toBe(0);
      expect(await redis.renamenx(h, b)).toBe(0);
      await expect(redis.rename(k("none"), b)).rejects.toThrow("ERR no such key");
      expect(await redis.hincrbyfloat(b, "f", 0.5)).toBe(1.5);
      expect(await redis.hsetnx(b, "f", "x")).toBe(0);
      expect(await redis.hsetnx(b, "z", "x")).toBe(1);
    });

    it("scans and samples hash fields with HSCAN and HRANDFIELD", async () => {
      const h = k("h");
      await redis.hset(h, { a1: "1", a2: "2", b1: "3" });
      const [cursor, found] = await redis.hscan(h, 0, { match: "a*" });
      expect(String(cursor)).toBe("0");
      expect(found).toHaveLength(4);
      expect(["a1", "a2", "b1"]).toContain(await redis.hrandfield(h));
      expect(await redis.hrandfield(h, 2)).toHaveLength(2);
      expect(await redis.hrandfield(h, -5)).toHaveLength(5);
    });
  });

  describe("one keyspace, two views (SPEC §7)", () => {
    it("reads native values as Redis strings, and Redis strings as native JSON strings", async () => {
      const kv = createClient({ url: server.url, token: FULL_TOKEN });
      const plain = new Redis({ url: base, token: FULL_TOKEN, automaticDeserialization: false });
      const [n, o, s] = [k("n"), k("o"), k("s")];
      await kv.set(n, 5);
      await kv.set(o, { a: [1, true] });
      expect(await plain.get(n)).toBe("5");
      expect(await plain.get(o)).toBe('{"a":[1,true]}');
      expect(await plain.incr(n)).toBe(6);
      expect(await kv.get(n)).toBe(6);
      await plain.set(s, "42");
      expect(await kv.get(s)).toBe("42");
      expect(await plain.incr(s)).toBe(43);
      expect(await kv.get(s)).toBe(43);
      const h = k("h");
      await plain.hset(h, { f: "v", g: "7" });
      expect(await kv.hGetAll(h)).toEqual({ f: "v", g: "7" });
      await kv.hSet(h, { n: 1.5 });
      expect(await plain.hget(h, "n")).toBe("1.5");
      expect(await plain.hincrby(h, "g", 1)).toBe(8);
      expect(await kv.hGet(h, "g")).toBe(8);
    });
  });
});

describe("@upstash/redis: DBSIZE, RANDOMKEY and FLUSHDB on a database of its own", () => {
  it("counts, samples and empties the keyspace", async () => {
    const db = tempSqlite();
    const server = await startKvServer({ env: { DATABASE_URL: db.url } });
    try {
      const redis = new Redis({ url: `${server.url}/api/redis`, token: FULL_TOKEN });
      await redis.mset({ a: "1", b: "2" });
      await redis.hset("h", { f: "v" });
      expect(await redis.dbsize()).toBe(3);
      expect(["a", "b", "h"]).toContain(await redis.randomkey());
      expect(await redis.get("a")).toBe(1);
      expect(await redis.flushdb()).toBe("OK");
      expect(await redis.dbsize()).toBe(0);
      expect(await redis.get("a")).toBeNull();
      expect(await redis.randomkey()).toBeNull();
    } finally {
      await server.close();
      db.remove();
    }
  });
});
