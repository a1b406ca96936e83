import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  client,
  expectError,
  expectResult,
  type Harness,
  resultOf,
  sqliteHarness,
} from "../helpers/harness.ts";

let h: Harness;
let kv: ReturnType<typeof client>;

beforeAll(() => {
  h = sqliteHarness();
  kv = client(h.app);
});

afterAll(async () => {
  await h.close();
});

/** All keys matching a pattern, following the cursor; also answers the number of pages. */
async function listAll(pattern: string, limit?: number): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: Record<string, string> = { pattern };
    if (limit !== undefined) query.limit = String(limit);
    if (cursor !== null) query.cursor = cursor;
    const page = resultOf(await kv.get("keys", query)) as { keys: string[]; cursor: string | null };
    expect(Object.keys(page).sort()).toEqual(["cursor", "keys"]);
    if (limit !== undefined) expect(page.keys.length).toBeLessThanOrEqual(limit);
    keys.push(...page.keys);
    cursor = page.cursor;
    pages++;
    expect(pages).toBeLessThan(100);
  } while (cursor !== null);
  return { keys, pages };
}

describe("mset and mget", () => {
  it("writes every pair and reads them back", async () => {
    expectResult(await kv.post("mset", { pairs: { "mm:a": 1, "mm:b": "two", "mm:c": { x: [3] } } }), true);
    expectResult(await kv.post("mget", { keys: ["mm:a", "mm:b", "mm:c"] }), {
      "mm:a": 1,
      "mm:b": "two",
      "mm:c": { x: [3] },
    });
  });

  it("mget leaves out missing keys and keys holding a hash, and keeps a null value", async () => {
    await kv.post("set", { key: "mg:s", value: "s" });
    await kv.post("set", { key: "mg:null", value: null });
    await kv.post("hset", { key: "mg:h", field: "f", value: 1 });
    expectResult(await kv.post("mget", { keys: ["mg:s", "mg:none", "mg:h", "mg:null", "mg:s"] }), {
      "mg:s": "s",
      "mg:null": null,
    });
  });

  it("mset with ttlMs gives every key that TTL", async () => {
    expectResult(await kv.post("mset", { pairs: { "mt:a": 1, "mt:b": 2 }, ttlMs: 60_000 }), true);
    for (const key of ["mt:a", "mt:b"]) {
      const ttl = resultOf(await kv.get("ttl", { key })) as number;
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });

  it("mset replaces hashes and removes TTLs", async () => {
    await kv.post("hset", { key: "mr:h", field: "f", value: 1 });
    await kv.post("setex", { key: "mr:s", value: 1, ttlMs: 60_000 });
    expectResult(await kv.post("mset", { pairs: { "mr:h": "h", "mr:s": "s" } }), true);
    expectResult(await kv.get("get", { key: "mr:h" }), "h");
    expectResult(await kv.get("ttl", { key: "mr:s" }), -1);
    expectResult(await kv.get("ttl", { key: "mr:h" }), -1);
  });

  it("mset writes nothing when one key is invalid", async () => {
    const reply = await kv.post("mset", { pairs: { "mn:a": 1, "mn:b": 2, "": 3 } });
    expectError(reply, 400, "INVALID_KEY", ["key"]);
    const long = "x".repeat(257);
    expectError(await kv.post("mset", { pairs: { "mn:c": 1, [long]: 2 } }), 400, "INVALID_KEY", ["256"]);
    expectResult(await kv.post("mget", { keys: ["mn:a", "mn:b", "mn:c"] }), {});
  });

  it("mset writes nothing when one value is too large", async () => {
    const reply = await kv.post("mset", { pairs: { "mv:a": 1, "mv:b": "x".repeat(1_048_576) } });
    expectError(reply, 413, "VALUE_TOO_LARGE", ["mv:b"]);
    expectResult(await kv.get("exists", { key: "mv:a" }), false);
  });

  it("refuses empty batches", async () => {
    expectError(await kv.post("mset", { pairs: {} }), 400, "BAD_REQUEST", ["pairs"]);
    expectError(await kv.post("mget", { keys: [] }), 400, "BAD_REQUEST", ["keys"]);
  });

  it("refuses ill-typed batches, naming the field", async () => {
    expectError(await kv.post("mset", { pairs: [["a", 1]] }), 400, "BAD_REQUEST", ["pairs"]);
    expectError(await kv.post("mset", {}), 400, "BAD_REQUEST", ["pairs"]);
    expectError(await kv.post("mget", { keys: "a" }), 400, "BAD_REQUEST", ["keys"]);
    expectError(await kv.post("mget", { keys: ["a", 1] }), 400, "BAD_REQUEST", ["keys"]);
    expectError(await kv.post("mget", { keys: ["a", ""] }), 400, "INVALID_KEY", ["keys"]);
  });

  it("accepts 1,000 keys and refuses 1,001 with PAYLOAD_TOO_LARGE", async () => {
    const pairs = (n: number, p: string) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`${p}${i}`, i]));
    expectResult(await kv.post("mset", { pairs: pairs(1000, "mb:") }), true);
    const got = resultOf(await kv.post("mget", { keys: Object.keys(pairs(1000, "mb:")) })) as Record<
      string,
      number
    >;
    expect(Object.keys(got)).toHaveLength(1000);
    expect(got["mb:999"]).toBe(999);

    expectError(await kv.post("mset", { pairs: pairs(1001, "mo:") }), 413, "PAYLOAD_TOO_LARGE");
    expectResult(await kv.get("exists", { key: "mo:0" }), false);
    const keys = Array.from({ length: 1001 }, (_, i) => `mb:${i}`);
    expectError(await kv.post("mget", { keys }), 413, "PAYLOAD_TOO_LARGE");
  });

  it("hdel and hset refuse over 1,000 fields with PAYLOAD_TOO_LARGE", async () => {
    await kv.post("hset", { key: "mh:h", field: "f0", value: 1 });
    const fields = Array.from({ length: 1001 }, (_, i) => `f${i}`);
    expectError(await kv.post("hdel", { key: "mh:h", fields }), 413, "PAYLOAD_TOO_LARGE");
    expectResult(await kv.get("hgetall", { key: "mh:h" }), { f0: 1 });
    const many = Object.fromEntries(fields.map((f) => [f, 2]));
    expectError(await kv.post("hset", { key: "mh:h", fields: many }), 413, "PAYLOAD_TOO_LARGE");
    expectResult(await kv.get("hgetall", { key: "mh:h" }), { f0: 1 });
    expectResult(await kv.post("hdel", { key: "mh:h", fields: fields.slice(0, 1000) }), 1);
  });

  it("a key named __proto__ works in mset, mget, get, hset, hget and hgetall", async () => {
    const body = '{"pairs":{"__proto__":{"polluted":true},"constructor":2,"pp:x":3}}';
    expectResult(await call(h.app, "POST", "mset", { raw: body }), true);
    const reply = await call(h.app, "POST", "mget", { raw: '{"keys":["__proto__","constructor","pp:x"]}' });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{"result":{"__proto__":{"polluted":true},"constructor":2,"pp:x":3}}');
    expectResult(await kv.get("get", { key: "__proto__" }), { polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    const hset = await call(h.app, "POST", "hset", {
      raw: '{"key":"pp:hash","fields":{"__proto__":"p","toString":"t"}}',
    });
    expectResult(hset, 2);
    expectResult(
      await call(h.app, "POST", "hset", { raw: '{"key":"pp:hash","field":"__proto__","value":"q"}' }),
      0,
    );
    expectResult(await kv.get("hget", { key: "pp:hash", field: "__proto__" }), "q");
    const all = await kv.get("hgetall", { key: "pp:hash" });
    expect(all.text).toBe('{"result":{"__proto__":"q","toString":"t"}}');
    expectResult(await kv.post("hdel", { key: "pp:hash", fields: ["__proto__"] }), 1);
    expect(resultOf(await kv.get("hgetall", { key: "pp:hash" }))).toEqual({ toString: "t" });
  });
});

describe("keys", () => {
  it("lists keys of both types matching a pattern", async () => {
    await kv.post("set", { key: "kt:s", value: 1 });
    await kv.post("hset", { key: "kt:h", field: "f", value: 1 });
    await kv.post("set", { key: "kx:other", value: 1 });
    expectResult(await kv.get("keys", { pattern: "kt:*" }), { keys: ["kt:h", "kt:s"], cursor: null });
  });

  it("defaults the pattern to *", async () => {
    await kv.post("set", { key: "kd:one", value: 1 });
    const page = resultOf(await kv.get("keys")) as { keys: string[]; cursor: string | null };
    expect(page.keys).toContain("kd:one");
  });

  it("answers an empty page for no match", async () => {
    expectResult(await kv.get("keys", { pattern: "nothing:matches:this:*" }), { keys: [], cursor: null });
  });

  it("matches a pattern holding a literal hyphen", async () => {
    await kv.post("mset", { pairs: { "dash-key:1": 1, "dash-key:2": 2, "dashkey:3": 3 } });
    expectResult(await kv.get("keys", { pattern: "dash-key:*" }), {
      keys: ["dash-key:1", "dash-key:2"],
      cursor: null,
    });
    expectResult(await kv.get("keys", { pattern: "dash\\-key:1" }), { keys: ["dash-key:1"], cursor: null });
  });

  it("matches Redis glob patterns", async () => {
    const keys = ["g:a1", "g:b1", "g:c1", "g:é1", "g:ab", "g:*x", "g:?x", "g:z9", "g:a11"];
    await kv.post("mset", { pairs: Object.fromEntries(keys.map((k) => [k, 1])) });
    const match = async (pattern: string) =>
      ((resultOf(await kv.get("keys", { pattern })) as { keys: string[] }).keys as string[]).slice().sort();
    expect(await match("g:*")).toEqual([...keys].sort());
    expect(await match("g:?1")).toEqual(["g:a1", "g:b1", "g:c1", "g:é1"].sort());
    expect(await match("g:[ab]1")).toEqual(["g:a1", "g:b1"]);
    expect(await match("g:[^a]1")).toEqual(["g:b1", "g:c1", "g:é1"].sort());
    expect(await match("g:[a-b]*")).toEqual(["g:a1", "g:a11", "g:ab", "g:b1"]);
    expect(await match("g:\\*x")).toEqual(["g:*x"]);
    expect(await match("g:\\?x")).toEqual(["g:?x"]);
    expect(await match("g:a1")).toEqual(["g:a1"]);
    expect(await match("g:*1")).toEqual(["g:a1", "g:a11", "g:b1", "g:c1", "g:é1"].sort());
  });

  it("treats SQL wildcards % and _ literally", async () => {
    await kv.post("mset", { pairs: { "lit:a%": 1, "lit:a_": 2, "lit:ab": 3, "lit:a%c": 4 } });
    expectResult(await kv.get("keys", { pattern: "lit:a%" }), { keys: ["lit:a%"], cursor: null });
    expectResult(await kv.get("keys", { pattern: "lit:a_" }), { keys: ["lit:a_"], cursor: null });
    expectResult(await kv.get("keys", { pattern: "lit:a%*" }), { keys: ["lit:a%", "lit:a%c"], cursor: null });
  });

  it("lists in UTF-8 byte order", async () => {
    const keys = ["ord:😀", "ord:a", "ord:é", "ord:B", "ord:ｚ", "ord:Z", "ord:"];
    await kv.post("mset", { pairs: Object.fromEntries(keys.map((k) => [k, 1])) });
    expectResult(await kv.get("keys", { pattern: "ord:*" }), {
      keys: ["ord:", "ord:B", "ord:Z", "ord:a", "ord:é", "ord:ｚ", "ord:😀"],
      cursor: null,
    });
  });

  it("pages with limit and cursor until the cursor is null", async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `pg:${String.fromCharCode(97 + i)}`);
    await kv.post("mset", { pairs: Object.fromEntries(keys.map((k) => [k, 1])) });
    const first = resultOf(await kv.get("keys", { pattern: "pg:*", limit: "3" })) as {
      keys: string[];
      cursor: string | null;
    };
    expect(first.keys).toEqual(["pg:a", "pg:b", "pg:c"]);
    expect(typeof first.cursor).toBe("string");
    const all = await listAll("pg:*", 3);
    expect(all.keys).toEqual(keys);
    expect(all.pages).toBe(3);
    const ones = await listAll("pg:*", 1);
    expect(ones.keys).toEqual(keys);
    expect(ones.pages).toBe(7);
  });

  it("ends with a null cursor when the last page is exactly full", async () => {
    const keys = ["pe:1", "pe:2", "pe:3", "pe:4"];
    await kv.post("mset", { pairs: Object.fromEntries(keys.map((k) => [k, 1])) });
    const all = await listAll("pe:*", 2);
    expect(all).toEqual({ keys, pages: 2 });
  });

  it("pages over a sparse match among many other keys", async () => {
    const pairs: Record<string, number> = {};
    for (let i = 0; i < 1200; i++) pairs[`sp:${String(i).padStart(4, "0")}`] = i;
    await kv.post("mset", { pairs: Object.fromEntries(Object.entries(pairs).slice(0, 1000)) });
    await kv.post("mset", { pairs: Object.fromEntries(Object.entries(pairs).slice(1000)) });
    const all = await listAll("sp:*7", 5);
    expect(all.keys).toEqual(Object.keys(pairs).filter((k) => k.endsWith("7")));
  });

  it.each(["0", "1001", "x", "", "-1", "1.5", " 5"])("refuses limit=%j, naming it", async (limit) => {
    expectError(await kv.get("keys", { pattern: "*", limit }), 400, "BAD_REQUEST", ["limit"]);
  });

  it("accepts limit 1000", async () => {
    expect(resultOf(await kv.get("keys", { pattern: "pg:*", limit: "1000" }))).toEqual({
      keys: ["pg:a", "pg:b", "pg:c", "pg:d", "pg:e", "pg:f", "pg:g"],
      cursor: null,
    });
  });

  it.each(["garbage!", "k", "not-a-cursor", "k%%"])("refuses cursor=%j, naming it", async (cursor) => {
    expectError(await kv.get("keys", { pattern: "*", cursor }), 400, "BAD_REQUEST", ["cursor"]);
  });
});

describe("locks", () => {
  it("lock, second lock, unlock with a wrong token, extend, unlock", async () => {
    const first = resultOf(await kv.post("lock", { key: "lk:a", ttlMs: 60_000 })) as {
      acquired: boolean;
      token: string | null;
    };
    expect(first.acquired).toBe(true);
    expect(typeof first.token).toBe("string");
    const token = first.token as string;
    expect(token.length).toBeGreaterThanOrEqual(22);

    expectResult(await kv.post("lock", { key: "lk:a", ttlMs: 60_000 }), { acquired: false, token: null });
    expectResult(await kv.post("unlock", { key: "lk:a", token: "wrong" }), false);
    expectResult(await kv.post("lock", { key: "lk:a", ttlMs: 60_000 }), { acquired: false, token: null });
    expectResult(await kv.post("extend", { key: "lk:a", token: "wrong", ttlMs: 60_000 }), false);
    expectResult(await kv.post("extend", { key: "lk:a", token, ttlMs: 60_000 }), true);
    expectResult(await kv.post("unlock", { key: "lk:a", token }), true);
    expectResult(await kv.post("unlock", { key: "lk:a", token }), false);
    expectResult(await kv.post("extend", { key: "lk:a", token, ttlMs: 60_000 }), false);

    const again = resultOf(await kv.post("lock", { key: "lk:a", ttlMs: 60_000 })) as { token: string };
    expect(again.token).not.toBe(token);
    expectResult(await kv.post("unlock", { key: "lk:a", token }), false);
    expectResult(await kv.post("unlock", { key: "lk:a", token: again.token }), true);
  });

  it("a lock's token does not open another lock", async () => {
    const a = resultOf(await kv.post("lock", { key: "lk:x", ttlMs: 60_000 })) as { token: string };
    const b = resultOf(await kv.post("lock", { key: "lk:y", ttlMs: 60_000 })) as { token: string };
    expect(a.token).not.toBe(b.token);
    expectResult(await kv.post("unlock", { key: "lk:y", token: a.token }), false);
    expectResult(await kv.post("unlock", { key: "lk:y", token: b.token }), true);
  });

  it("locks live apart from keys", async () => {
    await kv.post("set", { key: "lk:shared", value: "data" });
    const lock = resultOf(await kv.post("lock", { key: "lk:shared", ttlMs: 60_000 })) as {
      acquired: boolean;
    };
    expect(lock.acquired).toBe(true);
    expectResult(await kv.get("get", { key: "lk:shared" }), "data");
    expectResult(await kv.del("lk:shared"), 1);
    expectResult(await kv.post("lock", { key: "lk:shared", ttlMs: 60_000 }), {
      acquired: false,
      token: null,
    });
    expect(resultOf(await kv.post("lock", { key: "lk:only", ttlMs: 60_000 }))).toMatchObject({
      acquired: true,
    });
    expectResult(await kv.get("exists", { key: "lk:only" }), false);
    expectResult(await kv.get("keys", { pattern: "lk:*" }), { keys: [], cursor: null });
  });

  it("validates input, naming the field", async () => {
    expectError(await kv.post("lock", { key: "lk:v" }), 400, "BAD_REQUEST", ["ttlMs"]);
    expectError(await kv.post("lock", { key: "", ttlMs: 1000 }), 400, "INVALID_KEY", ["key"]);
    expectError(await kv.post("unlock", { key: "lk:v" }), 400, "BAD_REQUEST", ["token"]);
    expectError(await kv.post("unlock", { key: "lk:v", token: 5 }), 400, "BAD_REQUEST", ["token"]);
    expectError(await kv.post("extend", { key: "lk:v", token: "t" }), 400, "BAD_REQUEST", ["ttlMs"]);
    expectResult(await kv.post("lock", { key: "lk:v", ttlMs: 1000 }), {
      acquired: true,
      token: expect.any(String),
    });
  });
});
