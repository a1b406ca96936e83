import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeClock, type TempSqlite, tempSqlite } from "../helpers/databases.ts";
import {
  type CallOptions,
  call,
  client,
  createHarness,
  expectError,
  expectResult,
  type Harness,
  type Reply,
} from "../helpers/harness.ts";

const NO_CACHE: CallOptions = { headers: { "Cache-Control": "no-cache" } };

function cacheOf(reply: Reply): string | null {
  return reply.headers.get("X-KV-Cache");
}

let db: TempSqlite;
/** Two instances on one database, each with its own L1 (60 s, so nothing ages out mid-test). */
let a: Harness;
let b: Harness;
let kvA: ReturnType<typeof client>;
let kvB: ReturnType<typeof client>;

beforeAll(() => {
  db = tempSqlite();
  a = createHarness(db.url, { env: { KV_L1_TTL_MS: "60000" } });
  b = createHarness(db.url, { env: { KV_L1_TTL_MS: "60000" } });
  kvA = client(a.app);
  kvB = client(b.app);
});

afterAll(async () => {
  await a.close();
  await b.close();
  db.remove();
});

describe("X-KV-Cache on cacheable reads", () => {
  it("get: MISS, then HIT with the same value", async () => {
    await kvA.post("set", { key: "c:get", value: { v: 1 } });
    const first = await kvB.get("get", { key: "c:get" });
    expect(cacheOf(first)).toBe("MISS");
    expectResult(first, { v: 1 });
    const second = await kvB.get("get", { key: "c:get" });
    expect(cacheOf(second)).toBe("HIT");
    expectResult(second, { v: 1 });
  });

  it("get of a key written elsewhere: first MISS, second HIT", async () => {
    await kvB.post("set", { key: "c:g2", value: "x" });
    const first = await kvA.get("get", { key: "c:g2" });
    expect(cacheOf(first)).toBe("MISS");
    expectResult(first, "x");
    const second = await kvA.get("get", { key: "c:g2" });
    expect(cacheOf(second)).toBe("HIT");
    expectResult(second, "x");
  });

  it("a 404 get carries MISS then HIT", async () => {
    const first = await kvA.get("get", { key: "c:missing" });
    expectError(first, 404, "NOT_FOUND");
    expect(cacheOf(first)).toBe("MISS");
    const second = await kvA.get("get", { key: "c:missing" });
    expectError(second, 404, "NOT_FOUND");
    expect(cacheOf(second)).toBe("HIT");
  });

  it("a WRONGTYPE get carries the cache outcome too", async () => {
    await kvB.post("hset", { key: "c:wt", field: "f", value: 1 });
    const first = await kvA.get("get", { key: "c:wt" });
    expectError(first, 409, "WRONGTYPE");
    expect(cacheOf(first)).toBe("MISS");
    const second = await kvA.get("get", { key: "c:wt" });
    expectError(second, 409, "WRONGTYPE");
    expect(cacheOf(second)).toBe("HIT");
  });

  it("exists: MISS then HIT", async () => {
    await kvB.post("set", { key: "c:ex", value: 1 });
    const first = await kvA.get("exists", { key: "c:ex" });
    expect(cacheOf(first)).toBe("MISS");
    expectResult(first, true);
    const second = await kvA.get("exists", { key: "c:ex" });
    expect(cacheOf(second)).toBe("HIT");
    expectResult(second, true);
  });

  it("hget and hgetall: MISS then HIT", async () => {
    await kvB.post("hset", { key: "c:h", fields: { a: 1, b: 2 } });
    const g1 = await kvA.get("hget", { key: "c:h", field: "a" });
    expect(cacheOf(g1)).toBe("MISS");
    expectResult(g1, 1);
    const g2 = await kvA.get("hget", { key: "c:h", field: "a" });
    expect(cacheOf(g2)).toBe("HIT");
    expectResult(g2, 1);
    const all1 = await kvA.get("hgetall", { key: "c:h" });
    expect(cacheOf(all1)).toBe("MISS");
    expectResult(all1, { a: 1, b: 2 });
    const all2 = await kvA.get("hgetall", { key: "c:h" });
    expect(cacheOf(all2)).toBe("HIT");
    expectResult(all2, { a: 1, b: 2 });
    const other = await kvA.get("hget", { key: "c:h", field: "b" });
    expect(cacheOf(other)).toBe("HIT");
    expectResult(other, 2);
  });

  it("hget of a missing field: MISS then HIT, both 404", async () => {
    await kvB.post("hset", { key: "c:hm", field: "a", value: 1 });
    const first = await kvA.get("hget", { key: "c:hm", field: "zz" });
    expectError(first, 404, "NOT_FOUND");
    expect(cacheOf(first)).toBe("MISS");
    const second = await kvA.get("hget", { key: "c:hm", field: "zz" });
    expectError(second, 404, "NOT_FOUND");
    expect(cacheOf(second)).toBe("HIT");
  });

  it("hgetall after mget of the same hash key is not answered from a field-less snapshot", async () => {
    await kvB.post("hset", { key: "c:mh", fields: { a: 1 } });
    expectResult(await kvA.post("mget", { keys: ["c:mh"] }), {});
    expectResult(await kvA.get("hgetall", { key: "c:mh" }), { a: 1 });
    expectResult(await kvA.get("hget", { key: "c:mh", field: "a" }), 1);
  });

  it("mget: MISS, then HIT when every key is in L1, MISS when one is not", async () => {
    await kvB.post("mset", { pairs: { "c:m1": 1, "c:m2": 2 } });
    const first = await kvA.post("mget", { keys: ["c:m1", "c:m2", "c:m3"] });
    expect(cacheOf(first)).toBe("MISS");
    expectResult(first, { "c:m1": 1, "c:m2": 2 });
    const second = await kvA.post("mget", { keys: ["c:m1", "c:m2", "c:m3"] });
    expect(cacheOf(second)).toBe("HIT");
    expectResult(second, { "c:m1": 1, "c:m2": 2 });
    const partly = await kvA.post("mget", { keys: ["c:m1", "c:m4"] });
    expect(cacheOf(partly)).toBe("MISS");
  });

  it("ttl and keys carry no X-KV-Cache, even when repeated", async () => {
    await kvA.post("set", { key: "c:tk", value: 1 });
    for (let i = 0; i < 2; i++) {
      const ttl = await kvA.get("ttl", { key: "c:tk" });
      expectResult(ttl, -1);
      expect(cacheOf(ttl)).toBeNull();
      const keys = await kvA.get("keys", { pattern: "c:tk" });
      expectResult(keys, { keys: ["c:tk"], cursor: null });
      expect(cacheOf(keys)).toBeNull();
    }
  });

  it("ttl and keys read the database, not L1", async () => {
    await kvA.post("set", { key: "c:tkdb", value: 1 });
    expectResult(await kvA.get("get", { key: "c:tkdb" }), 1);
    await kvB.del("c:tkdb");
    expectResult(await kvA.get("ttl", { key: "c:tkdb" }), -2);
    expectResult(await kvA.get("keys", { pattern: "c:tkdb" }), { keys: [], cursor: null });
  });
});

describe("Cache-Control: no-cache", () => {
  it("skips L1, reads the database, and refreshes L1", async () => {
    await kvA.post("set", { key: "c:nc", value: "old" });
    expectResult(await kvA.get("get", { key: "c:nc" }), "old");
    await kvB.post("set", { key: "c:nc", value: "new" });

    const stale = await kvA.get("get", { key: "c:nc" });
    expect(cacheOf(stale)).toBe("HIT");
    expectResult(stale, "old");

    const fresh = await kvA.get("get", { key: "c:nc" }, NO_CACHE);
    expect(cacheOf(fresh)).toBe("MISS");
    expectResult(fresh, "new");

    const refreshed = await kvA.get("get", { key: "c:nc" });
    expect(cacheOf(refreshed)).toBe("HIT");
    expectResult(refreshed, "new");
  });

  it.each(["no-cache", "max-age=0, no-cache", "NO-CACHE"])("is honoured as %j", async (value) => {
    const key = `c:ncv:${value}`;
    await kvA.post("set", { key, value: 1 });
    await kvA.get("get", { key });
    const reply = await kvA.get("get", { key }, { headers: { "Cache-Control": value } });
    expect(cacheOf(reply)).toBe("MISS");
  });

  it("works for exists, hget, hgetall and mget", async () => {
    await kvA.post("set", { key: "c:ncs", value: 1 });
    await kvA.post("hset", { key: "c:nch", field: "f", value: 1 });
    await kvA.get("exists", { key: "c:ncs" });
    await kvA.get("hgetall", { key: "c:nch" });
    await kvA.post("mget", { keys: ["c:ncs"] });
    await kvB.del("c:ncs");
    await kvB.post("hset", { key: "c:nch", field: "f", value: 2 });

    const exists = await kvA.get("exists", { key: "c:ncs" }, NO_CACHE);
    expect(cacheOf(exists)).toBe("MISS");
    expectResult(exists, false);
    const hget = await kvA.get("hget", { key: "c:nch", field: "f" }, NO_CACHE);
    expect(cacheOf(hget)).toBe("MISS");
    expectResult(hget, 2);
    const hgetall = await kvA.get("hgetall", { key: "c:nch" }, NO_CACHE);
    expect(cacheOf(hgetall)).toBe("MISS");
    expectResult(hgetall, { f: 2 });
    const mget = await call(a.app, "POST", "mget", { body: { keys: ["c:ncs"] }, ...NO_CACHE });
    expect(cacheOf(mget)).toBe("MISS");
    expectResult(mget, {});
    expectResult(await kvA.get("exists", { key: "c:ncs" }), false);
  });
});

describe("an instance reads its own writes", () => {
  /** Reads a key twice through a so that L1 holds it, then checks the next read after `write`. */
  async function warm(key: string): Promise<void> {
    await kvA.get("get", { key });
    expect(cacheOf(await kvA.get("get", { key }))).toBe("HIT");
  }

  it("after set, setex, delete, incr, decr, expire and mset", async () => {
    await kvA.post("set", { key: "rw:s", value: 1 });
    await warm("rw:s");
    await kvA.post("set", { key: "rw:s", value: 2 });
    expectResult(await kvA.get("get", { key: "rw:s" }), 2);
    await kvA.post("setex", { key: "rw:s", value: 3, ttlMs: 60_000 });
    expectResult(await kvA.get("get", { key: "rw:s" }), 3);
    await kvA.post("incr", { key: "rw:s" });
    expectResult(await kvA.get("get", { key: "rw:s" }), 4);
    await warm("rw:s");
    await kvA.post("decr", { key: "rw:s", by: 10 });
    expectResult(await kvA.get("get", { key: "rw:s" }), -6);
    await warm("rw:s");
    await kvA.post("mset", { pairs: { "rw:s": "m" } });
    expectResult(await kvA.get("get", { key: "rw:s" }), "m");
    expectResult(await kvA.post("mget", { keys: ["rw:s"] }), { "rw:s": "m" });
    await warm("rw:s");
    await kvA.del("rw:s");
    expectError(await kvA.get("get", { key: "rw:s" }), 404, "NOT_FOUND");
    expectResult(await kvA.get("exists", { key: "rw:s" }), false);
    expectResult(await kvA.post("mget", { keys: ["rw:s"] }), {});
  });

  it("after a refused set nx the old value stays visible", async () => {
    await kvA.post("set", { key: "rw:nx", value: "first" });
    await warm("rw:nx");
    expectResult(await kvA.post("set", { key: "rw:nx", value: "second", nx: true }), false);
    expectResult(await kvA.get("get", { key: "rw:nx" }), "first");
    expectResult(await kvA.get("get", { key: "rw:nx" }, NO_CACHE), "first");
  });

  it("after hset, hdel and hincrby", async () => {
    await kvA.post("hset", { key: "rw:h", fields: { a: 1, b: 2 } });
    await kvA.get("hgetall", { key: "rw:h" });
    expect(cacheOf(await kvA.get("hgetall", { key: "rw:h" }))).toBe("HIT");
    await kvA.post("hset", { key: "rw:h", field: "c", value: 3 });
    expectResult(await kvA.get("hgetall", { key: "rw:h" }), { a: 1, b: 2, c: 3 });
    await kvA.post("hdel", { key: "rw:h", fields: ["a"] });
    expectError(await kvA.get("hget", { key: "rw:h", field: "a" }), 404, "NOT_FOUND");
    await kvA.get("hget", { key: "rw:h", field: "b" });
    await kvA.post("hincrby", { key: "rw:h", field: "b", by: 40 });
    expectResult(await kvA.get("hget", { key: "rw:h", field: "b" }), 42);
    await kvA.post("hdel", { key: "rw:h", fields: ["b", "c"] });
    expectResult(await kvA.get("exists", { key: "rw:h" }), false);
    expectResult(await kvA.get("hgetall", { key: "rw:h" }), {});
  });

  it("after a type change from hash to string and back", async () => {
    await kvA.post("hset", { key: "rw:t", field: "f", value: 1 });
    await kvA.get("hgetall", { key: "rw:t" });
    await kvA.post("set", { key: "rw:t", value: "s" });
    expectError(await kvA.get("hgetall", { key: "rw:t" }), 409, "WRONGTYPE");
    expectResult(await kvA.get("get", { key: "rw:t" }), "s");
    await kvA.del("rw:t");
    await kvA.post("hset", { key: "rw:t", field: "g", value: 2 });
    expectError(await kvA.get("get", { key: "rw:t" }), 409, "WRONGTYPE");
    expectResult(await kvA.get("hgetall", { key: "rw:t" }), { g: 2 });
  });
});

describe("L1 bounds", () => {
  it("KV_L1_TTL_MS=0 turns L1 off: every read is a MISS", async () => {
    const off = createHarness(db.url, { env: { KV_L1_TTL_MS: "0" } });
    try {
      await call(off.app, "POST", "set", { body: { key: "c:off", value: 1 } });
      for (let i = 0; i < 3; i++) {
        const reply = await call(off.app, "GET", "get", { query: { key: "c:off" } });
        expectResult(reply, 1);
        expect(cacheOf(reply)).toBe("MISS");
      }
    } finally {
      await off.close();
    }
  });

  it("an entry lives at most KV_L1_TTL_MS: another instance's write shows after it", async () => {
    const clock = fakeClock();
    const x = createHarness(db.url, { clock, env: { KV_L1_TTL_MS: "5000" } });
    const y = createHarness(db.url, { clock, env: { KV_L1_TTL_MS: "5000" } });
    try {
      const kx = client(x.app);
      await kx.post("set", { key: "c:l1ttl", value: "old" });
      await kx.get("get", { key: "c:l1ttl" });
      await client(y.app).post("set", { key: "c:l1ttl", value: "new" });
      clock.advance(4999);
      const stale = await kx.get("get", { key: "c:l1ttl" });
      expect(cacheOf(stale)).toBe("HIT");
      expectResult(stale, "old");
      clock.advance(1);
      const after = await kx.get("get", { key: "c:l1ttl" });
      expect(cacheOf(after)).toBe("MISS");
      expectResult(after, "new");
    } finally {
      await x.close();
      await y.close();
    }
  });

  it("KV_L1_MAX_ENTRIES bounds L1: the least recently used entry goes first", async () => {
    const x = createHarness(db.url, { env: { KV_L1_TTL_MS: "60000", KV_L1_MAX_ENTRIES: "2" } });
    try {
      const kx = client(x.app);
      await kx.post("mset", { pairs: { "lru:a": 1, "lru:b": 2, "lru:c": 3 } });
      await kx.get("get", { key: "lru:a" });
      await kx.get("get", { key: "lru:b" });
      expect(cacheOf(await kx.get("get", { key: "lru:a" }))).toBe("HIT");
      await kx.get("get", { key: "lru:c" });
      expect(cacheOf(await kx.get("get", { key: "lru:a" }))).toBe("HIT");
      expect(cacheOf(await kx.get("get", { key: "lru:b" }))).toBe("MISS");
    } finally {
      await x.close();
    }
  });
});
