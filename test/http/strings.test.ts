import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  client,
  expectError,
  expectResult,
  type Harness,
  resultOf,
  sqliteHarness,
} from "../helpers/harness.ts";

const MAX = Number.MAX_SAFE_INTEGER;

let h: Harness;
let kv: ReturnType<typeof client>;

beforeAll(() => {
  h = sqliteHarness();
  kv = client(h.app);
});

afterAll(async () => {
  await h.close();
});

describe("set and get", () => {
  it.each([
    ["string", "hello"],
    ["empty string", ""],
    ["number", 42.5],
    ["negative integer", -7],
    ["true", true],
    ["false", false],
    ["null", null],
    ["array", [1, "two", null, [3]]],
    ["object", { a: 1, nested: { b: [true, "ü"] } }],
    ["unicode string", '日本語 😀 "quoted" \\ back'],
  ])("round-trips a %s", async (name, value) => {
    const key = `set:type:${name}`;
    expectResult(await kv.post("set", { key, value }), true);
    expectResult(await kv.get("get", { key }), value);
  });

  it("answers 404 NOT_FOUND for a missing key", async () => {
    expectError(await kv.get("get", { key: "set:missing" }), 404, "NOT_FOUND");
  });

  it("answers 409 WRONGTYPE for get on a hash", async () => {
    await kv.post("hset", { key: "set:hash", field: "f", value: 1 });
    expectError(await kv.get("get", { key: "set:hash" }), 409, "WRONGTYPE");
  });

  it("replaces a hash with a string (type change)", async () => {
    expectResult(await kv.post("hset", { key: "set:retype", fields: { a: 1, b: 2 } }), 2);
    expectResult(await kv.post("set", { key: "set:retype", value: "now a string" }), true);
    expectResult(await kv.get("get", { key: "set:retype" }), "now a string");
    expectError(await kv.get("hgetall", { key: "set:retype" }), 409, "WRONGTYPE");
    expectError(await kv.get("hget", { key: "set:retype", field: "a" }), 409, "WRONGTYPE");
  });

  it("a string replaced by a hash after delete does not bring back old fields", async () => {
    await kv.post("hset", { key: "set:ghost", fields: { old: 1 } });
    await kv.post("set", { key: "set:ghost", value: 1 });
    expectResult(await kv.del("set:ghost"), 1);
    expectResult(await kv.post("hset", { key: "set:ghost", field: "new", value: 2 }), 1);
    expectResult(await kv.get("hgetall", { key: "set:ghost" }), { new: 2 });
  });

  it("without ttlMs removes an existing TTL", async () => {
    expectResult(await kv.post("setex", { key: "set:ttlgone", value: 1, ttlMs: 100_000 }), true);
    expect(resultOf(await kv.get("ttl", { key: "set:ttlgone" }))).toBeGreaterThan(0);
    expectResult(await kv.post("set", { key: "set:ttlgone", value: 2 }), true);
    expectResult(await kv.get("ttl", { key: "set:ttlgone" }), -1);
  });

  it("with ttlMs sets a TTL of at most ttlMs", async () => {
    expectResult(await kv.post("set", { key: "set:withttl", value: "v", ttlMs: 60_000 }), true);
    const ttl = resultOf(await kv.get("ttl", { key: "set:withttl" })) as number;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("nx writes only a missing key", async () => {
    expectResult(await kv.post("set", { key: "set:nx", value: 1, nx: true }), true);
    expectResult(await kv.post("set", { key: "set:nx", value: 2, nx: true }), false);
    expectResult(await kv.get("get", { key: "set:nx" }), 1);
  });

  it("nx refuses when the key holds a hash", async () => {
    await kv.post("hset", { key: "set:nxhash", field: "f", value: 1 });
    expectResult(await kv.post("set", { key: "set:nxhash", value: 2, nx: true }), false);
    expectResult(await kv.get("hgetall", { key: "set:nxhash" }), { f: 1 });
  });

  it("xx writes only an existing key", async () => {
    expectResult(await kv.post("set", { key: "set:xx", value: 1, xx: true }), false);
    expectResult(await kv.get("exists", { key: "set:xx" }), false);
    await kv.post("set", { key: "set:xx", value: 1 });
    expectResult(await kv.post("set", { key: "set:xx", value: 2, xx: true }), true);
    expectResult(await kv.get("get", { key: "set:xx" }), 2);
  });

  it("nx with xx is a BAD_REQUEST naming them, and writes nothing", async () => {
    const reply = await kv.post("set", { key: "set:nxxx", value: 1, nx: true, xx: true });
    expectError(reply, 400, "BAD_REQUEST", ["nx", "xx"]);
    expectResult(await kv.get("exists", { key: "set:nxxx" }), false);
  });

  it("refuses a missing value, naming it", async () => {
    expectError(await kv.post("set", { key: "set:novalue" }), 400, "BAD_REQUEST", ["value"]);
  });

  it("refuses ill-typed options, naming them", async () => {
    expectError(await kv.post("set", { key: "set:bad", value: 1, nx: "yes" }), 400, "BAD_REQUEST", ["nx"]);
    expectError(await kv.post("set", { key: 5, value: 1 }), 400, "BAD_REQUEST", ["key"]);
    expectError(await kv.post("set", { key: "set:bad", value: 1, ttlMs: 0 }), 400, "BAD_REQUEST", ["ttlMs"]);
    expectError(await kv.post("set", { key: "set:bad", value: 1, ttlMs: 1.5 }), 400, "BAD_REQUEST", [
      "ttlMs",
    ]);
    expectError(await kv.post("set", { key: "set:bad", value: 1, ttlMs: "10" }), 400, "BAD_REQUEST", [
      "ttlMs",
    ]);
    expectResult(await kv.get("exists", { key: "set:bad" }), false);
  });
});

describe("setex", () => {
  it("sets a value with a TTL", async () => {
    expectResult(await kv.post("setex", { key: "setex:a", value: { x: 1 }, ttlMs: 30_000 }), true);
    expectResult(await kv.get("get", { key: "setex:a" }), { x: 1 });
    const ttl = resultOf(await kv.get("ttl", { key: "setex:a" })) as number;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it("requires ttlMs, naming it", async () => {
    expectError(await kv.post("setex", { key: "setex:b", value: 1 }), 400, "BAD_REQUEST", ["ttlMs"]);
  });

  it("accepts ttlMs up to 2^40 and refuses 2^40 + 1", async () => {
    expectResult(await kv.post("setex", { key: "setex:max", value: 1, ttlMs: 2 ** 40 }), true);
    expectError(
      await kv.post("setex", { key: "setex:over", value: 1, ttlMs: 2 ** 40 + 1 }),
      400,
      "BAD_REQUEST",
      ["ttlMs"],
    );
    expectResult(await kv.get("exists", { key: "setex:over" }), false);
  });

  it("replaces a hash", async () => {
    await kv.post("hset", { key: "setex:hash", field: "f", value: 1 });
    expectResult(await kv.post("setex", { key: "setex:hash", value: "s", ttlMs: 10_000 }), true);
    expectResult(await kv.get("get", { key: "setex:hash" }), "s");
  });
});

describe("delete, exists, ttl, expire", () => {
  it("delete answers 1 then 0", async () => {
    await kv.post("set", { key: "del:a", value: 1 });
    expectResult(await kv.del("del:a"), 1);
    expectResult(await kv.del("del:a"), 0);
    expectError(await kv.get("get", { key: "del:a" }), 404, "NOT_FOUND");
  });

  it("delete removes a hash with its fields", async () => {
    await kv.post("hset", { key: "del:h", fields: { a: 1, b: 2 } });
    expectResult(await kv.del("del:h"), 1);
    expectResult(await kv.get("hgetall", { key: "del:h" }), {});
    expectResult(await kv.get("exists", { key: "del:h" }), false);
  });

  it("exists answers true for strings and hashes, false for missing keys", async () => {
    await kv.post("set", { key: "ex:s", value: null });
    await kv.post("hset", { key: "ex:h", field: "f", value: 0 });
    expectResult(await kv.get("exists", { key: "ex:s" }), true);
    expectResult(await kv.get("exists", { key: "ex:h" }), true);
    expectResult(await kv.get("exists", { key: "ex:none" }), false);
  });

  it("a stored null is found, not 404", async () => {
    await kv.post("set", { key: "ex:null", value: null });
    expectResult(await kv.get("get", { key: "ex:null" }), null);
  });

  it("ttl answers -2 for missing, -1 without expiry, and the remaining ms", async () => {
    expectResult(await kv.get("ttl", { key: "ttl:none" }), -2);
    await kv.post("set", { key: "ttl:forever", value: 1 });
    expectResult(await kv.get("ttl", { key: "ttl:forever" }), -1);
    await kv.post("setex", { key: "ttl:some", value: 1, ttlMs: 50_000 });
    const ttl = resultOf(await kv.get("ttl", { key: "ttl:some" })) as number;
    expect(Number.isInteger(ttl)).toBe(true);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(50_000);
  });

  it("expire answers true for an existing key and sets its TTL", async () => {
    await kv.post("set", { key: "exp:a", value: 1 });
    expectResult(await kv.post("expire", { key: "exp:a", ttlMs: 40_000 }), true);
    const ttl = resultOf(await kv.get("ttl", { key: "exp:a" })) as number;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(40_000);
    expectResult(await kv.get("get", { key: "exp:a" }), 1);
  });

  it("expire works on a hash", async () => {
    await kv.post("hset", { key: "exp:h", field: "f", value: 1 });
    expectResult(await kv.post("expire", { key: "exp:h", ttlMs: 40_000 }), true);
    expect(resultOf(await kv.get("ttl", { key: "exp:h" }))).toBeGreaterThan(0);
  });

  it("expire answers false for a missing key and creates nothing", async () => {
    expectResult(await kv.post("expire", { key: "exp:none", ttlMs: 1000 }), false);
    expectResult(await kv.get("exists", { key: "exp:none" }), false);
  });

  it("expire requires an integer ttlMs", async () => {
    expectError(await kv.post("expire", { key: "exp:a", ttlMs: -5 }), 400, "BAD_REQUEST", ["ttlMs"]);
    expectError(await kv.post("expire", { key: "exp:a" }), 400, "BAD_REQUEST", ["ttlMs"]);
  });
});

describe("incr and decr", () => {
  it("start a missing key at 0 and store a JSON number", async () => {
    expectResult(await kv.post("incr", { key: "ctr:a" }), 1);
    expectResult(await kv.post("incr", { key: "ctr:a", by: 5 }), 6);
    expectResult(await kv.post("decr", { key: "ctr:a" }), 5);
    expectResult(await kv.post("decr", { key: "ctr:a", by: 10 }), -5);
    expectResult(await kv.post("incr", { key: "ctr:a", by: -2 }), -7);
    expectResult(await kv.get("get", { key: "ctr:a" }), -7);
    expectResult(await kv.post("decr", { key: "ctr:b" }), -1);
  });

  it.each([
    ["41", 42],
    ["-41", -40],
    ["0", 1],
    ["-0", 1],
  ])("work on a string holding an integer (%s)", async (value, expected) => {
    const key = `ctr:str:${value}`;
    await kv.post("set", { key, value });
    expectResult(await kv.post("incr", { key }), expected);
    expectResult(await kv.get("get", { key }), expected);
  });

  it("work on a JSON integer", async () => {
    await kv.post("set", { key: "ctr:num", value: 100 });
    expectResult(await kv.post("decr", { key: "ctr:num", by: 1 }), 99);
  });

  it.each([
    ["abc", "abc"],
    ["a float", 1.5],
    ["leading zeros", "007"],
    ["a plus sign", "+5"],
    ["spaces", " 41"],
    ["an empty string", ""],
    ["2^53 as a number", 2 ** 53],
    ["-2^53 as a number", -(2 ** 53)],
    ["2^53+1 as a string", "9007199254740993"],
    ["true", true],
    ["null", null],
    ["an array", [1]],
    ["an object", { n: 1 }],
  ])("fail with NOT_INTEGER on %s and leave the value", async (name, value) => {
    const key = `ctr:bad:${name}`;
    await kv.post("set", { key, value });
    expectError(await kv.post("incr", { key }), 400, "NOT_INTEGER");
    expectError(await kv.post("decr", { key, by: 2 }), 400, "NOT_INTEGER");
    expectResult(await kv.get("get", { key }), value);
  });

  it("fail with OVERFLOW past 2^53-1 and change nothing", async () => {
    await kv.post("set", { key: "ctr:max", value: MAX - 1 });
    expectResult(await kv.post("incr", { key: "ctr:max" }), MAX);
    expectError(await kv.post("incr", { key: "ctr:max" }), 400, "OVERFLOW");
    expectResult(await kv.get("get", { key: "ctr:max" }), MAX);
  });

  it("fail with OVERFLOW below -(2^53-1) and change nothing", async () => {
    await kv.post("set", { key: "ctr:min", value: String(-(MAX - 1)) });
    expectResult(await kv.post("decr", { key: "ctr:min" }), -MAX);
    expectError(await kv.post("decr", { key: "ctr:min" }), 400, "OVERFLOW");
    expectResult(await kv.get("get", { key: "ctr:min" }), -MAX);
  });

  it("fail with OVERFLOW for a large by, leaving a missing key missing", async () => {
    expectResult(await kv.post("incr", { key: "ctr:big", by: MAX }), MAX);
    expectError(await kv.post("incr", { key: "ctr:big", by: MAX }), 400, "OVERFLOW");
    expectResult(await kv.get("get", { key: "ctr:big" }), MAX);
  });

  it("keep the key's TTL", async () => {
    await kv.post("setex", { key: "ctr:ttl", value: "5", ttlMs: 100_000 });
    expectResult(await kv.post("incr", { key: "ctr:ttl" }), 6);
    const ttl = resultOf(await kv.get("ttl", { key: "ctr:ttl" })) as number;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100_000);
  });

  it("fail with WRONGTYPE on a hash", async () => {
    await kv.post("hset", { key: "ctr:hash", field: "f", value: 1 });
    expectError(await kv.post("incr", { key: "ctr:hash" }), 409, "WRONGTYPE");
    expectError(await kv.post("decr", { key: "ctr:hash" }), 409, "WRONGTYPE");
    expectResult(await kv.get("hgetall", { key: "ctr:hash" }), { f: 1 });
  });

  it("refuse a by that is not an integer, naming it", async () => {
    expectError(await kv.post("incr", { key: "ctr:by", by: 1.5 }), 400, "BAD_REQUEST", ["by"]);
    expectError(await kv.post("incr", { key: "ctr:by", by: "2" }), 400, "BAD_REQUEST", ["by"]);
    expectError(await kv.post("decr", { key: "ctr:by", by: 2 ** 53 }), 400, "BAD_REQUEST", ["by"]);
    expectResult(await kv.get("exists", { key: "ctr:by" }), false);
  });
});
