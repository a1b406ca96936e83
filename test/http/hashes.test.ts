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

describe("hset", () => {
  it("single form answers 1 for a new field and 0 for an update", async () => {
    expectResult(await kv.post("hset", { key: "hs:a", field: "f", value: "v1" }), 1);
    expectResult(await kv.post("hset", { key: "hs:a", field: "f", value: "v2" }), 0);
    expectResult(await kv.get("hget", { key: "hs:a", field: "f" }), "v2");
  });

  it("multi form answers the number of newly created fields", async () => {
    expectResult(await kv.post("hset", { key: "hs:m", fields: { a: 1 } }), 1);
    expectResult(await kv.post("hset", { key: "hs:m", fields: { a: 10, b: [2], c: { n: null } } }), 2);
    expectResult(await kv.get("hgetall", { key: "hs:m" }), { a: 10, b: [2], c: { n: null } });
  });

  it("stores a null field value", async () => {
    expectResult(await kv.post("hset", { key: "hs:null", field: "f", value: null }), 1);
    expectResult(await kv.get("hget", { key: "hs:null", field: "f" }), null);
  });

  it("refuses both forms at once, and writes nothing", async () => {
    const reply = await kv.post("hset", { key: "hs:both", field: "f", value: 1, fields: { g: 2 } });
    expectError(reply, 400, "BAD_REQUEST", ["field"]);
    expectResult(await kv.get("exists", { key: "hs:both" }), false);
  });

  it("refuses neither form, naming fields", async () => {
    expectError(await kv.post("hset", { key: "hs:neither" }), 400, "BAD_REQUEST", ["fields"]);
  });

  it("refuses a field without a value and a value without a field", async () => {
    expectError(await kv.post("hset", { key: "hs:half", field: "f" }), 400, "BAD_REQUEST", ["value"]);
    expectError(await kv.post("hset", { key: "hs:half", value: 1 }), 400, "BAD_REQUEST", ["field"]);
    expectResult(await kv.get("exists", { key: "hs:half" }), false);
  });

  it("refuses an empty fields object", async () => {
    expectError(await kv.post("hset", { key: "hs:empty", fields: {} }), 400, "BAD_REQUEST", ["fields"]);
  });

  it("refuses an empty field name with INVALID_KEY", async () => {
    expectError(await kv.post("hset", { key: "hs:ef", field: "", value: 1 }), 400, "INVALID_KEY", ["field"]);
    expectError(await kv.post("hset", { key: "hs:ef", fields: { "": 1 } }), 400, "INVALID_KEY", ["field"]);
    expectResult(await kv.get("exists", { key: "hs:ef" }), false);
  });

  it("fails with WRONGTYPE on a string and leaves it", async () => {
    await kv.post("set", { key: "hs:str", value: "s" });
    expectError(await kv.post("hset", { key: "hs:str", field: "f", value: 1 }), 409, "WRONGTYPE");
    expectResult(await kv.get("get", { key: "hs:str" }), "s");
  });

  it("keeps the key's TTL", async () => {
    await kv.post("hset", { key: "hs:ttl", field: "a", value: 1 });
    await kv.post("expire", { key: "hs:ttl", ttlMs: 100_000 });
    expectResult(await kv.post("hset", { key: "hs:ttl", field: "b", value: 2 }), 1);
    const ttl = resultOf(await kv.get("ttl", { key: "hs:ttl" })) as number;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100_000);
  });
});

describe("hget and hgetall", () => {
  it("hget answers 404 NOT_FOUND for a missing key and for a missing field", async () => {
    expectError(await kv.get("hget", { key: "hg:none", field: "f" }), 404, "NOT_FOUND");
    await kv.post("hset", { key: "hg:a", field: "f", value: 1 });
    expectError(await kv.get("hget", { key: "hg:a", field: "other" }), 404, "NOT_FOUND");
  });

  it("hget requires field, naming it", async () => {
    expectError(await kv.get("hget", { key: "hg:a" }), 400, "BAD_REQUEST", ["field"]);
    expectError(await kv.get("hget", { key: "hg:a", field: "" }), 400, "INVALID_KEY", ["field"]);
  });

  it("hgetall answers {} for a missing key", async () => {
    expectResult(await kv.get("hgetall", { key: "hg:none" }), {});
  });

  it("hget and hgetall fail with WRONGTYPE on a string", async () => {
    await kv.post("set", { key: "hg:str", value: { f: 1 } });
    expectError(await kv.get("hget", { key: "hg:str", field: "f" }), 409, "WRONGTYPE");
    expectError(await kv.get("hgetall", { key: "hg:str" }), 409, "WRONGTYPE");
  });
});

describe("hdel", () => {
  it("answers the number of fields removed", async () => {
    await kv.post("hset", { key: "hd:a", fields: { a: 1, b: 2, c: 3 } });
    expectResult(await kv.post("hdel", { key: "hd:a", fields: ["a", "zz"] }), 1);
    expectResult(await kv.post("hdel", { key: "hd:a", fields: ["b", "b"] }), 1);
    expectResult(await kv.get("hgetall", { key: "hd:a" }), { c: 3 });
  });

  it("deleting the last field removes the key", async () => {
    await kv.post("hset", { key: "hd:last", fields: { a: 1, b: 2 } });
    expectResult(await kv.post("hdel", { key: "hd:last", fields: ["a", "b"] }), 2);
    expectResult(await kv.get("exists", { key: "hd:last" }), false);
    expectResult(await kv.get("ttl", { key: "hd:last" }), -2);
    expectResult(await kv.get("hgetall", { key: "hd:last" }), {});
    expectResult(await kv.post("set", { key: "hd:last", value: 1, nx: true }), true);
  });

  it("answers 0 for a missing key", async () => {
    expectResult(await kv.post("hdel", { key: "hd:none", fields: ["a"] }), 0);
  });

  it("fails with WRONGTYPE on a string", async () => {
    await kv.post("set", { key: "hd:str", value: 1 });
    expectError(await kv.post("hdel", { key: "hd:str", fields: ["a"] }), 409, "WRONGTYPE");
    expectResult(await kv.get("get", { key: "hd:str" }), 1);
  });

  it("refuses an empty or missing fields list", async () => {
    expectError(await kv.post("hdel", { key: "hd:a", fields: [] }), 400, "BAD_REQUEST", ["fields"]);
    expectError(await kv.post("hdel", { key: "hd:a" }), 400, "BAD_REQUEST", ["fields"]);
    expectError(await kv.post("hdel", { key: "hd:a", fields: "a" }), 400, "BAD_REQUEST", ["fields"]);
  });

  it("keeps the key's TTL", async () => {
    await kv.post("hset", { key: "hd:ttl", fields: { a: 1, b: 2 } });
    await kv.post("expire", { key: "hd:ttl", ttlMs: 100_000 });
    expectResult(await kv.post("hdel", { key: "hd:ttl", fields: ["a"] }), 1);
    expect(resultOf(await kv.get("ttl", { key: "hd:ttl" }))).toBeGreaterThan(0);
  });
});

describe("hincrby", () => {
  it("starts a missing key or field at 0", async () => {
    expectResult(await kv.post("hincrby", { key: "hi:a", field: "n", by: 5 }), 5);
    expectResult(await kv.post("hincrby", { key: "hi:a", field: "n", by: -7 }), -2);
    expectResult(await kv.post("hincrby", { key: "hi:a", field: "m", by: 1 }), 1);
    expectResult(await kv.get("hgetall", { key: "hi:a" }), { n: -2, m: 1 });
  });

  it("works on a field holding an integer string", async () => {
    await kv.post("hset", { key: "hi:s", field: "n", value: "41" });
    expectResult(await kv.post("hincrby", { key: "hi:s", field: "n", by: 1 }), 42);
    expectResult(await kv.get("hget", { key: "hi:s", field: "n" }), 42);
  });

  it.each([
    ["abc", "abc"],
    ["float", 1.5],
    ["leading zeros", "007"],
    ["2^53", 2 ** 53],
  ])("fails with NOT_INTEGER on %s and changes nothing", async (name, value) => {
    const key = `hi:bad:${name}`;
    await kv.post("hset", { key, field: "n", value });
    expectError(await kv.post("hincrby", { key, field: "n", by: 1 }), 400, "NOT_INTEGER");
    expectResult(await kv.get("hget", { key, field: "n" }), value);
  });

  it("fails with OVERFLOW and changes nothing", async () => {
    await kv.post("hset", { key: "hi:ovf", field: "n", value: MAX });
    expectError(await kv.post("hincrby", { key: "hi:ovf", field: "n", by: 1 }), 400, "OVERFLOW");
    expectResult(await kv.get("hget", { key: "hi:ovf", field: "n" }), MAX);
    await kv.post("hset", { key: "hi:ovf", field: "m", value: -MAX });
    expectError(await kv.post("hincrby", { key: "hi:ovf", field: "m", by: -1 }), 400, "OVERFLOW");
    expectResult(await kv.get("hget", { key: "hi:ovf", field: "m" }), -MAX);
  });

  it("a refused hincrby on a missing key leaves it missing", async () => {
    expectError(await kv.post("hincrby", { key: "hi:none", field: "n", by: 1.5 }), 400, "BAD_REQUEST", [
      "by",
    ]);
    expectResult(await kv.get("exists", { key: "hi:none" }), false);
  });

  it("requires by, naming it", async () => {
    expectError(await kv.post("hincrby", { key: "hi:a", field: "n" }), 400, "BAD_REQUEST", ["by"]);
  });

  it("fails with WRONGTYPE on a string", async () => {
    await kv.post("set", { key: "hi:str", value: 1 });
    expectError(await kv.post("hincrby", { key: "hi:str", field: "n", by: 1 }), 409, "WRONGTYPE");
    expectResult(await kv.get("get", { key: "hi:str" }), 1);
  });

  it("keeps the key's TTL", async () => {
    await kv.post("hset", { key: "hi:ttl", field: "n", value: 1 });
    await kv.post("expire", { key: "hi:ttl", ttlMs: 100_000 });
    expectResult(await kv.post("hincrby", { key: "hi:ttl", field: "n", by: 1 }), 2);
    expect(resultOf(await kv.get("ttl", { key: "hi:ttl" }))).toBeGreaterThan(0);
  });
});
