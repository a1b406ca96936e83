import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/core/limits.ts";
import { call, client, expectError, expectResult, type Harness, sqliteHarness } from "../helpers/harness.ts";

const MIB = 1_048_576;

let h: Harness;
let kv: ReturnType<typeof client>;

beforeAll(() => {
  h = sqliteHarness();
  kv = client(h.app);
});

afterAll(async () => {
  await h.close();
});

describe("keys with any UTF-8 round-trip through JSON bodies and percent-encoded queries", () => {
  const special = [
    "with space",
    "a:b:c",
    "star*key",
    "emoji 😀🎉",
    `quotes "double" 'single'`,
    "percent %20 %",
    "under_score",
    "plus+sign",
    "amp&eq=q?",
    "hash#frag",
    "slash/back\\slash",
    "[brackets]",
    "tab\tnewline\n",
    "  ",
  ];

  it.each(special)("key %j", async (key) => {
    expectResult(await kv.post("set", { key, value: key }), true);
    expectResult(await kv.get("get", { key }), key);
    expectResult(await kv.get("exists", { key }), true);
    expectResult(await kv.get("ttl", { key }), -1);
    expectResult(await kv.post("mget", { keys: [key] }), { [key]: key });
    expectResult(await kv.del(key), 1);
    expectResult(await kv.get("exists", { key }), false);
  });

  it.each(special)("hash field %j", async (field) => {
    const key = `field:${field}`;
    expectResult(await kv.post("hset", { key, field, value: 1 }), 1);
    expectResult(await kv.get("hget", { key, field }), 1);
    expectResult(await kv.get("hgetall", { key }), { [field]: 1 });
  });

  it("lists special keys under a literal prefix", async () => {
    await kv.post("mset", { pairs: { "sk:a b": 1, "sk:a%b": 2, "sk:a_b": 3, "sk:a*b": 4 } });
    expectResult(await kv.get("keys", { pattern: "sk:*" }), {
      keys: ["sk:a b", "sk:a%b", "sk:a*b", "sk:a_b"],
      cursor: null,
    });
  });
});

describe("key length", () => {
  const cases: [string, string][] = [
    ["ASCII", "k".repeat(256)],
    ["2-byte é", "é".repeat(128)],
    ["4-byte emoji", "😀".repeat(64)],
    ["3-byte mixed", `${"€".repeat(85)}x`],
  ];

  it.each(cases)("a key of exactly 256 bytes (%s) works", async (_name, key) => {
    expect(Buffer.byteLength(key)).toBe(256);
    expectResult(await kv.post("set", { key, value: 1 }), true);
    expectResult(await kv.get("get", { key }), 1);
    expectResult(await kv.post("hset", { key: `h:${_name}`, field: key, value: 2 }), 1);
    expectResult(await kv.get("hget", { key: `h:${_name}`, field: key }), 2);
  });

  it.each(cases)("a key of 257 bytes (%s) is INVALID_KEY", async (_name, base) => {
    const key = `${base}x`;
    expect(Buffer.byteLength(key)).toBe(257);
    expectError(await kv.post("set", { key, value: 1 }), 400, "INVALID_KEY", ["key", "256"]);
    expectError(await kv.get("get", { key }), 400, "INVALID_KEY", ["key"]);
    expectError(await kv.get("exists", { key }), 400, "INVALID_KEY", ["key"]);
    expectError(await kv.del(key), 400, "INVALID_KEY", ["key"]);
    expectError(await kv.post("incr", { key }), 400, "INVALID_KEY", ["key"]);
    expectError(await kv.post("mget", { keys: [key] }), 400, "INVALID_KEY", ["keys"]);
    expectError(await kv.post("lock", { key, ttlMs: 1000 }), 400, "INVALID_KEY", ["key"]);
    expectError(await kv.post("hset", { key: "h:257", field: key, value: 1 }), 400, "INVALID_KEY", ["field"]);
    expectError(await kv.get("hget", { key: "h:257", field: key }), 400, "INVALID_KEY", ["field"]);
    expectError(await kv.post("hdel", { key: "h:257", fields: [key] }), 400, "INVALID_KEY", ["fields"]);
    expectError(await kv.post("hincrby", { key: "h:257", field: key, by: 1 }), 400, "INVALID_KEY", ["field"]);
    expectResult(await kv.get("exists", { key: "h:257" }), false);
  });

  it("an empty key is INVALID_KEY", async () => {
    expectError(await kv.post("set", { key: "", value: 1 }), 400, "INVALID_KEY", ["key"]);
    expectError(await kv.get("get", { key: "" }), 400, "INVALID_KEY", ["key"]);
    expectError(await kv.del(""), 400, "INVALID_KEY", ["key"]);
  });

  it("a key that is not valid UTF-8 is INVALID_KEY", async () => {
    const lone = await call(h.app, "POST", "set", { raw: '{"key":"bad\\ud800","value":1}' });
    expectError(lone, 400, "INVALID_KEY", ["key"]);
    expectError(await call(h.app, "GET", "/api/kv/get?key=%FF%FE"), 400, "INVALID_KEY", ["key"]);
    expectError(await call(h.app, "GET", "/api/kv/get?key=%ED%A0%80"), 400, "INVALID_KEY", ["key"]);
    expectError(await call(h.app, "GET", "/api/kv/hget?key=h&field=%C3"), 400, "INVALID_KEY", ["field"]);
  });

  it("a missing key is a BAD_REQUEST naming it", async () => {
    expectError(await kv.get("get"), 400, "BAD_REQUEST", ["key"]);
    expectError(await call(h.app, "DELETE", "delete"), 400, "BAD_REQUEST", ["key"]);
    expectError(await kv.post("set", { value: 1 }), 400, "BAD_REQUEST", ["key"]);
    expectError(await kv.post("incr", {}), 400, "BAD_REQUEST", ["key"]);
  });
});

describe("value size", () => {
  it("a value of exactly 1 MiB of JSON is stored and read back", async () => {
    const value = "a".repeat(MIB - 2);
    expect(Buffer.byteLength(JSON.stringify(value))).toBe(MIB);
    expectResult(await kv.post("set", { key: "v:1mib", value }), true);
    expectResult(await kv.get("get", { key: "v:1mib" }), value);
  });

  it("a value of 1 MiB + 1 byte is VALUE_TOO_LARGE and nothing is written", async () => {
    const value = "a".repeat(MIB - 1);
    expectError(await kv.post("set", { key: "v:over", value }), 413, "VALUE_TOO_LARGE", ["value"]);
    expectError(await kv.post("setex", { key: "v:over", value, ttlMs: 1000 }), 413, "VALUE_TOO_LARGE", [
      "value",
    ]);
    expectError(await kv.post("hset", { key: "v:over", field: "f", value }), 413, "VALUE_TOO_LARGE", [
      "value",
    ]);
    expectError(await kv.post("hset", { key: "v:over", fields: { f: value } }), 413, "VALUE_TOO_LARGE", [
      "f",
    ]);
    expectResult(await kv.get("exists", { key: "v:over" }), false);
  });

  it("counts UTF-8 bytes of the JSON encoding, escapes included", async () => {
    const twoByte = "é".repeat((MIB - 2) / 2);
    expectResult(await kv.post("set", { key: "v:utf8", value: twoByte }), true);
    expectError(await kv.post("set", { key: "v:utf8b", value: `${twoByte}a` }), 413, "VALUE_TOO_LARGE");
    const quotes = '"'.repeat((MIB - 2) / 2);
    expectResult(await kv.post("set", { key: "v:quotes", value: quotes }), true);
    expectError(await kv.post("set", { key: "v:quotesb", value: `${quotes}a` }), 413, "VALUE_TOO_LARGE");
    expectResult(await kv.get("get", { key: "v:quotes" }), quotes);
  });
});

describe("request bodies", () => {
  const small = '{"key":"body:ok","value":1}';

  it("a body of exactly 16 MiB is accepted", async () => {
    const raw = small + " ".repeat(MAX_BODY_BYTES - small.length);
    expect(raw.length).toBe(MAX_BODY_BYTES);
    expectResult(await call(h.app, "POST", "set", { raw }), true);
    expectResult(await kv.get("get", { key: "body:ok" }), 1);
  });

  it("a body over 16 MiB is PAYLOAD_TOO_LARGE and nothing is written", async () => {
    const raw = `{"key":"body:big","value":1}${" ".repeat(MAX_BODY_BYTES)}`;
    expectError(await call(h.app, "POST", "set", { raw }), 413, "PAYLOAD_TOO_LARGE");
    const huge = `{"key":"body:big","value":"${"a".repeat(MAX_BODY_BYTES)}"}`;
    expectError(await call(h.app, "POST", "set", { raw: huge }), 413, "PAYLOAD_TOO_LARGE");
    expectResult(await kv.get("exists", { key: "body:big" }), false);
  });

  it("a declared Content-Length over 16 MiB is PAYLOAD_TOO_LARGE", async () => {
    const reply = await call(h.app, "POST", "set", {
      raw: small,
      headers: { "Content-Length": String(MAX_BODY_BYTES + 1) },
    });
    expectError(reply, 413, "PAYLOAD_TOO_LARGE");
  });

  it.each([
    ["malformed JSON", '{"key":"j","value":'],
    ["a trailing comma", '{"key":"j","value":1,}'],
    ["an empty body", ""],
    ["whitespace", "   "],
    ["a JSON array", '["key","value"]'],
    ["a JSON string", '"key"'],
    ["JSON null", "null"],
  ])("%s is a BAD_REQUEST", async (_name, raw) => {
    expectError(await call(h.app, "POST", "set", { raw }), 400, "BAD_REQUEST");
  });

  it("a missing body is a BAD_REQUEST", async () => {
    expectError(await call(h.app, "POST", "set"), 400, "BAD_REQUEST");
  });

  it("a body that is not UTF-8 is a BAD_REQUEST", async () => {
    const raw = new Uint8Array([
      ...new TextEncoder().encode('{"key":"'),
      0xff,
      ...new TextEncoder().encode('"}'),
    ]);
    expectError(await call(h.app, "POST", "set", { raw }), 400, "BAD_REQUEST");
  });

  it("an unknown field is a BAD_REQUEST naming it", async () => {
    const reply = await kv.post("set", { key: "uf:a", value: 1, bogusOption: true });
    expectError(reply, 400, "BAD_REQUEST", ["bogusOption"]);
    expectResult(await kv.get("exists", { key: "uf:a" }), false);
    expectError(await kv.post("mget", { keys: ["a"], extra: 1 }), 400, "BAD_REQUEST", ["extra"]);
    expectError(await kv.post("lock", { key: "a", ttlMs: 5, ttl: 5 }), 400, "BAD_REQUEST", ["ttl"]);
  });

  it("an unknown query parameter is a BAD_REQUEST naming it", async () => {
    expectError(await kv.get("get", { key: "a", bogusParam: "1" }), 400, "BAD_REQUEST", ["bogusParam"]);
    expectError(await kv.get("keys", { match: "*" }), 400, "BAD_REQUEST", ["match"]);
    expectError(await kv.del("a", { query: { key: "a", force: "1" } }), 400, "BAD_REQUEST", ["force"]);
  });

  it("a query parameter given twice is a BAD_REQUEST naming it", async () => {
    expectError(await call(h.app, "GET", "/api/kv/get?key=a&key=b"), 400, "BAD_REQUEST", ["key"]);
    expectError(await call(h.app, "GET", "/api/kv/get?__proto__=1&__proto__=2&key=a"), 400, "BAD_REQUEST", [
      "__proto__",
      "more than once",
    ]);
  });

  it("query parameters named like an object's members are unknown options, never its prototype", async () => {
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expectError(await call(h.app, "GET", `/api/kv/get?key=a&${name}=x`), 400, "BAD_REQUEST", [name]);
      expectError(await call(h.app, "GET", `/api/kv/get?${name}=x&key=a`), 400, "BAD_REQUEST", [name]);
    }
    expectError(await call(h.app, "GET", "/api/kv/get?__proto__=x"), 400, "BAD_REQUEST", ["key is required"]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
