import { randomUUID } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis, type RedisConfigNodejs } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { createClient } from "../../src/client/index.ts";

/** How a target's L1 caches map onto its endpoints (SPEC §4: one L1 per instance). */
export type L1Topology =
  /** One instance serves every endpoint (the Node server, a Cloudflare Worker isolate): it reads its own writes. */
  | "shared"
  /** Each endpoint is its own instance (Vercel functions): a write through `/set` does not refresh `/get`'s L1. */
  | "per-endpoint";

/** What the suite must know about a target besides its address. */
export interface ConformanceOptions {
  /** `KV_TOKEN` of the target (full access). */
  token: string;
  /** `KV_READONLY_TOKEN` of the target. */
  readonlyToken: string;
  /** The database `health` must report. */
  db: "sqlite" | "postgresql";
  l1: L1Topology;
  /** The target's `KV_L1_TTL_MS` (SPEC default 5,000); must be at least 1,000 for the L1 tests. */
  l1TtlMs?: number;
  /** The `fetch` of the native API's requests (its own and the SDK's); the global one by default. */
  fetch?: typeof fetch;
}

/** The answer of one request: status, headers, and the parsed JSON body (undefined when not JSON). */
export interface Reply {
  status: number;
  headers: Headers;
  body: { result?: unknown; error?: { code: string; message: string } } | undefined;
}

type Auth = "full" | "read" | "none" | string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The HTTP contract of SPEC.md as one vitest suite, run unchanged against every deployment
 * target: the Node server, the Vercel build, the Cloudflare Worker. `baseUrl` is the origin
 * (no `/api/kv`); pass a function when the target starts in `beforeAll`.
 */
export function conformance(baseUrl: string | (() => string), options: ConformanceOptions): void {
  const origin = () => (typeof baseUrl === "string" ? baseUrl : baseUrl()).replace(/\/$/, "");
  const run = randomUUID().slice(0, 8);
  let counter = 0;
  /** A key no other test (nor an earlier run on the same database) uses. */
  const key = (label = "k") => `conf:${run}:${label}:${++counter}`;
  const bearer = (auth: Auth) =>
    auth === "full"
      ? options.token
      : auth === "read"
        ? options.readonlyToken
        : auth === "none"
          ? undefined
          : auth;

  async function call(
    method: string,
    path: string,
    init: { body?: unknown; rawBody?: string; auth?: Auth; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...init.headers };
    const token = bearer(init.auth ?? "full");
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (init.rawBody !== undefined || init.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = init.rawBody ?? JSON.stringify(init.body);
    }
    const res = await (options.fetch ?? fetch)(`${origin()}/api/kv/${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: Reply["body"];
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  const q = (params: Record<string, string | number>) =>
    Object.entries(params)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join("&");
  // On a per-endpoint target another instance may hold an older copy for up to the L1 TTL
  // (SPEC §4), so reads that must see a write made through another endpoint skip L1.
  const fresh = options.l1 === "per-endpoint" ? { "Cache-Control": "no-cache" } : undefined;
  const post = (name: string, body: unknown, auth?: Auth) =>
    call("POST", name, { body, auth, ...(fresh && name === "mget" ? { headers: fresh } : {}) });
  const get = (name: string, params: Record<string, string | number>, auth?: Auth) =>
    call("GET", `${name}?${q(params)}`, { auth, ...(fresh ? { headers: fresh } : {}) });

  async function ok(reply: Promise<Reply> | Reply): Promise<unknown> {
    const r = await reply;
    expect(r.body?.error, `unexpected error ${JSON.stringify(r.body)}`).toBeUndefined();
    expect(r.status).toBe(200);
    return r.body?.result;
  }
  async function fails(reply: Promise<Reply> | Reply, status: number, code: string): Promise<Reply> {
    const r = await reply;
    expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
    expect(typeof r.body?.error?.message).toBe("string");
    expect(r.body?.error?.message).not.toMatch(/\n\s+at |SELECT|INSERT|prisma/i);
    return r;
  }

  describe("envelope and authentication (SPEC §2, §5)", () => {
    it("answers {result} with Cache-Control: no-store", async () => {
      const k = key();
      const r = await post("set", { key: k, value: 1 });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ result: true });
      expect(r.headers.get("cache-control")).toBe("no-store");
    });

    it("answers errors in the envelope with Cache-Control: no-store", async () => {
      const r = await fails(get("get", { key: key("missing") }), 404, "NOT_FOUND");
      expect(Object.keys(r.body ?? {})).toEqual(["error"]);
      expect(r.headers.get("cache-control")).toBe("no-store");
    });

    it("refuses a missing or wrong bearer token with 401", async () => {
      await fails(get("get", { key: key() }, "none"), 401, "UNAUTHORIZED");
      await fails(get("get", { key: key() }, `${options.token}x`), 401, "UNAUTHORIZED");
      await fails(post("set", { key: key(), value: 1 }, "wrong"), 401, "UNAUTHORIZED");
    });

    it("checks authentication before the path", async () => {
      await fails(call("GET", "no-such-endpoint", { auth: "none" }), 401, "UNAUTHORIZED");
    });

    it("answers 404 NOT_FOUND for an unknown path under /api/kv", async () => {
      await fails(call("GET", "no-such-endpoint"), 404, "NOT_FOUND");
      await fails(call("POST", "no-such-endpoint", { body: {} }), 404, "NOT_FOUND");
    });

    it("answers 405 for a known path with the wrong method", async () => {
      await fails(call("POST", `get?${q({ key: key() })}`, { body: {} }), 405, "METHOD_NOT_ALLOWED");
      await fails(call("GET", "set"), 405, "METHOD_NOT_ALLOWED");
      await fails(call("GET", `delete?${q({ key: key() })}`), 405, "METHOD_NOT_ALLOWED");
    });

    it("lets the read-only token read and forbids its writes (before input checks)", async () => {
      const k = key();
      await ok(post("set", { key: k, value: "v" }));
      expect(await ok(get("get", { key: k }, "read"))).toBe("v");
      expect(await ok(get("exists", { key: k }, "read"))).toBe(true);
      expect(await ok(get("ttl", { key: k }, "read"))).toBe(-1);
      expect(await ok(post("mget", { keys: [k] }, "read"))).toEqual({ [k]: "v" });
      await fails(post("set", { key: k, value: 1 }, "read"), 403, "FORBIDDEN");
      await fails(post("set", { nonsense: true }, "read"), 403, "FORBIDDEN");
      await fails(call("DELETE", `delete?${q({ key: k })}`, { auth: "read" }), 403, "FORBIDDEN");
      await fails(post("incr", { key: k }, "read"), 403, "FORBIDDEN");
      await fails(post("lock", { key: k, ttlMs: 1000 }, "read"), 403, "FORBIDDEN");
      expect(await ok(get("get", { key: k }))).toBe("v");
    });

    it("serves health without a token and names the database", async () => {
      const r = await call("GET", "health", { auth: "none" });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ result: { status: "ok", db: options.db } });
      expect(r.headers.get("cache-control")).toBe("no-store");
    });
  });

  describe("input validation (SPEC §2, §3)", () => {
    it("answers BAD_REQUEST to malformed JSON, missing, ill-typed and unknown fields", async () => {
      await fails(call("POST", "set", { rawBody: '{"key": "a", ' }), 400, "BAD_REQUEST");
      await fails(post("set", { value: 1 }), 400, "BAD_REQUEST");
      await fails(post("set", { key: 5, value: 1 }), 400, "BAD_REQUEST");
      await fails(post("set", { key: key(), value: 1, color: "red" }), 400, "BAD_REQUEST");
      await fails(post("setex", { key: key(), value: 1 }), 400, "BAD_REQUEST");
      await fails(post("set", { key: key(), value: 1, ttlMs: 1.5 }), 400, "BAD_REQUEST");
      await fails(post("set", { key: key(), value: 1, ttlMs: 0 }), 400, "BAD_REQUEST");
      await fails(post("set", { key: key(), value: 1, ttlMs: 2 ** 40 + 1 }), 400, "BAD_REQUEST");
      await fails(post("incr", { key: key(), by: 1.5 }), 400, "BAD_REQUEST");
      await fails(call("GET", "get"), 400, "BAD_REQUEST");
    });

    it("answers BAD_REQUEST to set with both nx and xx, and to empty batches", async () => {
      await fails(post("set", { key: key(), value: 1, nx: true, xx: true }), 400, "BAD_REQUEST");
      await fails(post("mset", { pairs: {} }), 400, "BAD_REQUEST");
      await fails(post("mget", { keys: [] }), 400, "BAD_REQUEST");
      await fails(post("hdel", { key: key(), fields: [] }), 400, "BAD_REQUEST");
      await fails(post("hset", { key: key(), fields: {} }), 400, "BAD_REQUEST");
    });

    it("answers INVALID_KEY to an empty or over-long key or field", async () => {
      await fails(post("set", { key: "", value: 1 }), 400, "INVALID_KEY");
      await fails(post("set", { key: "x".repeat(257), value: 1 }), 400, "INVALID_KEY");
      await fails(post("set", { key: "é".repeat(129), value: 1 }), 400, "INVALID_KEY");
      await fails(get("get", { key: "" }), 400, "INVALID_KEY");
      await fails(post("hset", { key: key(), field: "", value: 1 }), 400, "INVALID_KEY");
      await fails(post("mget", { keys: [key(), ""] }), 400, "INVALID_KEY");
      await fails(call("POST", "set", { rawBody: '{"key": "\\ud800x", "value": 1}' }), 400, "INVALID_KEY");
    });

    it("accepts any valid UTF-8 key up to 256 bytes, in bodies and in query strings", async () => {
      const keys = [
        `${key()} :*?[]%_"'\\`,
        `${key()}🙂é`,
        `${key("long")}`.padEnd(256, "z"),
        `${key()}&key=other#frag+plus`,
      ];
      for (const [i, k] of keys.entries()) {
        await ok(post("set", { key: k, value: i }));
        expect(await ok(get("get", { key: k }))).toBe(i);
        expect(await ok(get("exists", { key: k }))).toBe(true);
      }
    });

    it("answers VALUE_TOO_LARGE above 1 MiB of JSON and accepts exactly 1 MiB", async () => {
      const k = key();
      const exact = "x".repeat(1024 * 1024 - 2);
      await ok(post("set", { key: k, value: exact }));
      expect(((await ok(get("get", { key: k }))) as string).length).toBe(exact.length);
      await fails(post("set", { key: k, value: `${exact}x` }), 413, "VALUE_TOO_LARGE");
      await fails(post("hset", { key: key(), field: "f", value: `${exact}x` }), 413, "VALUE_TOO_LARGE");
    });

    it("answers PAYLOAD_TOO_LARGE to over 1,000 keys in a batch", async () => {
      const keys = Array.from({ length: 1001 }, (_, i) => `${key("b")}:${i}`);
      await fails(post("mget", { keys }), 413, "PAYLOAD_TOO_LARGE");
      await fails(
        post("mset", { pairs: Object.fromEntries(keys.map((k) => [k, 1])) }),
        413,
        "PAYLOAD_TOO_LARGE",
      );
      const ok1000 = await post("mget", { keys: keys.slice(0, 1000) });
      expect(ok1000.status).toBe(200);
    });

    it("answers PAYLOAD_TOO_LARGE to a body over 16 MiB", async () => {
      const big = JSON.stringify({ key: key(), value: "x".repeat(16 * 1024 * 1024 + 16) });
      const r = await call("POST", "set", { rawBody: big });
      expect(r.status).toBe(413);
      expect(r.body?.error?.code).toBe("PAYLOAD_TOO_LARGE");
    });
  });

  describe("strings (SPEC §1, §3)", () => {
    it("round-trips every kind of JSON value", async () => {
      const values = [
        "text",
        "",
        0,
        -12.5,
        2 ** 53 + 2,
        true,
        false,
        null,
        [1, "a", null],
        { a: { b: [1] }, é: "🙂" },
      ];
      for (const value of values) {
        const k = key();
        expect(await ok(post("set", { key: k, value }))).toBe(true);
        expect(await ok(get("get", { key: k }))).toEqual(value);
      }
    });

    it("answers 404 NOT_FOUND to get of a missing key", async () => {
      await fails(get("get", { key: key() }), 404, "NOT_FOUND");
    });

    it("honours nx and xx", async () => {
      const k = key();
      expect(await ok(post("set", { key: k, value: 1, xx: true }))).toBe(false);
      await fails(get("get", { key: k }), 404, "NOT_FOUND");
      expect(await ok(post("set", { key: k, value: 1, nx: true }))).toBe(true);
      expect(await ok(post("set", { key: k, value: 2, nx: true }))).toBe(false);
      expect(await ok(get("get", { key: k }))).toBe(1);
      expect(await ok(post("set", { key: k, value: 3, xx: true }))).toBe(true);
      expect(await ok(get("get", { key: k }))).toBe(3);
    });

    it("deletes: 1 for a removed key, 0 for a missing one", async () => {
      const k = key();
      await ok(post("set", { key: k, value: "v" }));
      expect(await ok(call("DELETE", `delete?${q({ key: k })}`))).toBe(1);
      expect(await ok(call("DELETE", `delete?${q({ key: k })}`))).toBe(0);
      expect(await ok(get("exists", { key: k }))).toBe(false);
      await fails(get("get", { key: k }), 404, "NOT_FOUND");
    });

    it("reports ttl: -2 missing, -1 no expiry, else the remaining ms", async () => {
      const k = key();
      expect(await ok(get("ttl", { key: k }))).toBe(-2);
      await ok(post("set", { key: k, value: 1 }));
      expect(await ok(get("ttl", { key: k }))).toBe(-1);
      expect(await ok(post("setex", { key: k, value: 2, ttlMs: 60_000 }))).toBe(true);
      const ttl = (await ok(get("ttl", { key: k }))) as number;
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      await ok(post("set", { key: k, value: 3 }));
      expect(await ok(get("ttl", { key: k }))).toBe(-1);
    });

    it("expires keys for every operation, expire answers whether the key existed", async () => {
      const k = key("exp");
      const pattern = `conf:${run}:exp:*`;
      expect(await ok(post("expire", { key: k, ttlMs: 1000 }))).toBe(false);
      await ok(post("set", { key: k, value: "soon" }));
      expect(await ok(get("get", { key: k }))).toBe("soon");
      expect(await ok(post("expire", { key: k, ttlMs: 600 }))).toBe(true);
      const h = key("exp");
      await ok(post("hset", { key: h, field: "f", value: 1 }));
      await ok(post("expire", { key: h, ttlMs: 600 }));
      expect(await ok(get("exists", { key: k }))).toBe(true);
      expect(((await ok(get("keys", { pattern }))) as { keys: string[] }).keys.sort()).toEqual([k, h].sort());
      await sleep(900);
      await fails(get("get", { key: k }), 404, "NOT_FOUND");
      expect(await ok(get("exists", { key: k }))).toBe(false);
      expect(await ok(get("ttl", { key: k }))).toBe(-2);
      expect(await ok(post("mget", { keys: [k] }))).toEqual({});
      expect(await ok(get("hgetall", { key: h }))).toEqual({});
      expect(await ok(post("expire", { key: k, ttlMs: 1000 }))).toBe(false);
      expect(await ok(get("keys", { pattern }))).toEqual({ keys: [], cursor: null });
      expect(await ok(post("set", { key: k, value: "again", nx: true }))).toBe(true);
      // An expired hash takes its fields with it: a new hash under the name starts empty.
      expect(await ok(post("hset", { key: h, field: "g", value: 2 }))).toBe(1);
      expect(await ok(get("hgetall", { key: h }))).toEqual({ g: 2 });
    });
  });

  describe("counters (SPEC §1)", () => {
    it("starts a missing key at 0 and steps by `by`", async () => {
      const k = key();
      expect(await ok(post("incr", { key: k }))).toBe(1);
      expect(await ok(post("incr", { key: k, by: 10 }))).toBe(11);
      expect(await ok(post("decr", { key: k }))).toBe(10);
      expect(await ok(post("decr", { key: k, by: 25 }))).toBe(-15);
      expect(await ok(get("get", { key: k }))).toBe(-15);
      expect(await ok(post("decr", { key: key() }))).toBe(-1);
    });

    it("counts on a JSON integer or a Redis-style integer string, and stores a number", async () => {
      const a = key();
      await ok(post("set", { key: a, value: "41" }));
      expect(await ok(post("incr", { key: a }))).toBe(42);
      expect(await ok(get("get", { key: a }))).toBe(42);
      const b = key();
      await ok(post("set", { key: b, value: "-7" }));
      expect(await ok(post("incr", { key: b }))).toBe(-6);
    });

    it("answers NOT_INTEGER to anything else, and changes nothing", async () => {
      for (const value of ["abc", "01", "+1", " 1", "1.0", 1.5, true, null, [1], { n: 1 }, 2 ** 53]) {
        const k = key();
        await ok(post("set", { key: k, value }));
        await fails(post("incr", { key: k }), 400, "NOT_INTEGER");
        expect(await ok(get("get", { key: k }))).toEqual(value);
      }
    });

    it("answers OVERFLOW beyond ±(2^53−1) and changes nothing", async () => {
      const k = key();
      await ok(post("set", { key: k, value: Number.MAX_SAFE_INTEGER - 1 }));
      expect(await ok(post("incr", { key: k }))).toBe(Number.MAX_SAFE_INTEGER);
      await fails(post("incr", { key: k }), 400, "OVERFLOW");
      expect(await ok(get("get", { key: k }))).toBe(Number.MAX_SAFE_INTEGER);
      const n = key();
      await ok(post("set", { key: n, value: -Number.MAX_SAFE_INTEGER }));
      await fails(post("decr", { key: n }), 400, "OVERFLOW");
    });

    it("keeps the key's TTL", async () => {
      const k = key();
      await ok(post("setex", { key: k, value: 5, ttlMs: 60_000 }));
      expect(await ok(post("incr", { key: k }))).toBe(6);
      expect(await ok(get("ttl", { key: k }))).toBeGreaterThan(50_000);
    });

    it("is atomic under concurrent updates", async () => {
      const k = key();
      const n = 30;
      const results = await Promise.all(Array.from({ length: n }, () => ok(post("incr", { key: k }))));
      expect([...results].sort((a, b) => (a as number) - (b as number))).toEqual(
        Array.from({ length: n }, (_, i) => i + 1),
      );
      await Promise.all(Array.from({ length: 10 }, () => ok(post("decr", { key: k, by: 2 }))));
      expect(await ok(get("get", { key: k }))).toBe(n - 20);
    });
  });

  describe("hashes (SPEC §1, §3)", () => {
    it("sets fields and counts the new ones", async () => {
      const k = key();
      expect(await ok(post("hset", { key: k, field: "a", value: 1 }))).toBe(1);
      expect(await ok(post("hset", { key: k, fields: { a: 2, b: { x: [1] }, c: null } }))).toBe(2);
      expect(await ok(get("hget", { key: k, field: "a" }))).toBe(2);
      expect(await ok(get("hget", { key: k, field: "c" }))).toBe(null);
      expect(await ok(get("hgetall", { key: k }))).toEqual({ a: 2, b: { x: [1] }, c: null });
      await fails(get("hget", { key: k, field: "zz" }), 404, "NOT_FOUND");
      await fails(get("hget", { key: key(), field: "a" }), 404, "NOT_FOUND");
      expect(await ok(get("hgetall", { key: key() }))).toEqual({});
    });

    it("deletes fields, and the key with its last field", async () => {
      const k = key();
      await ok(post("hset", { key: k, fields: { a: 1, b: 2, "🙂": 3 } }));
      expect(await ok(post("hdel", { key: k, fields: ["a", "nope", "a"] }))).toBe(1);
      expect(await ok(get("hgetall", { key: k }))).toEqual({ b: 2, "🙂": 3 });
      expect(await ok(post("hdel", { key: k, fields: ["b", "🙂"] }))).toBe(2);
      expect(await ok(get("exists", { key: k }))).toBe(false);
      expect(await ok(get("ttl", { key: k }))).toBe(-2);
      expect(await ok(post("hdel", { key: k, fields: ["b"] }))).toBe(0);
    });

    it("increments fields atomically, with the counter rules", async () => {
      const k = key();
      expect(await ok(post("hincrby", { key: k, field: "n", by: 5 }))).toBe(5);
      expect(await ok(post("hincrby", { key: k, field: "n", by: -7 }))).toBe(-2);
      await ok(post("hset", { key: k, field: "s", value: "x" }));
      await fails(post("hincrby", { key: k, field: "s", by: 1 }), 400, "NOT_INTEGER");
      await ok(post("hset", { key: k, field: "m", value: Number.MAX_SAFE_INTEGER }));
      await fails(post("hincrby", { key: k, field: "m", by: 1 }), 400, "OVERFLOW");
      expect(await ok(get("hgetall", { key: k }))).toEqual({ n: -2, s: "x", m: Number.MAX_SAFE_INTEGER });
      const c = key();
      const all = await Promise.all(
        Array.from({ length: 20 }, () => ok(post("hincrby", { key: c, field: "f", by: 1 }))),
      );
      expect(new Set(all).size).toBe(20);
      expect(await ok(get("hget", { key: c, field: "f" }))).toBe(20);
    });

    it("keeps the TTL on hash writes; set replaces a hash and drops its fields", async () => {
      const k = key();
      await ok(post("hset", { key: k, field: "a", value: 1 }));
      await ok(post("expire", { key: k, ttlMs: 60_000 }));
      await ok(post("hset", { key: k, field: "b", value: 2 }));
      await ok(post("hincrby", { key: k, field: "c", by: 1 }));
      await ok(post("hdel", { key: k, fields: ["a"] }));
      expect(await ok(get("ttl", { key: k }))).toBeGreaterThan(50_000);
      await ok(post("set", { key: k, value: "now a string" }));
      expect(await ok(get("ttl", { key: k }))).toBe(-1);
      expect(await ok(get("get", { key: k }))).toBe("now a string");
      await ok(call("DELETE", `delete?${q({ key: k })}`));
      expect(await ok(post("hset", { key: k, field: "z", value: 0 }))).toBe(1);
      expect(await ok(get("hgetall", { key: k }))).toEqual({ z: 0 });
      // Deleting a hash deletes its fields.
      await ok(post("hset", { key: k, fields: { y: 1, x: 2 } }));
      expect(await ok(call("DELETE", `delete?${q({ key: k })}`))).toBe(1);
      expect(await ok(post("hset", { key: k, field: "w", value: 3 }))).toBe(1);
      expect(await ok(get("hgetall", { key: k }))).toEqual({ w: 3 });
    });

    it("answers WRONGTYPE across types and changes nothing", async () => {
      const s = key();
      const h = key();
      await ok(post("set", { key: s, value: 1 }));
      await ok(post("hset", { key: h, field: "f", value: 1 }));
      await fails(post("hset", { key: s, field: "f", value: 1 }), 409, "WRONGTYPE");
      await fails(get("hget", { key: s, field: "f" }), 409, "WRONGTYPE");
      await fails(get("hgetall", { key: s }), 409, "WRONGTYPE");
      await fails(post("hdel", { key: s, fields: ["f"] }), 409, "WRONGTYPE");
      await fails(post("hincrby", { key: s, field: "f", by: 1 }), 409, "WRONGTYPE");
      await fails(get("get", { key: h }), 409, "WRONGTYPE");
      await fails(post("incr", { key: h }), 409, "WRONGTYPE");
      await fails(post("decr", { key: h }), 409, "WRONGTYPE");
      expect(await ok(get("get", { key: s }))).toBe(1);
      expect(await ok(get("hgetall", { key: h }))).toEqual({ f: 1 });
      expect(await ok(get("exists", { key: h }))).toBe(true);
    });
  });

  describe("batches (SPEC §3)", () => {
    it("mset writes every pair with one TTL; mget answers only live strings", async () => {
      const [a, b, h, missing] = [key(), key(), key(), key()];
      await ok(post("hset", { key: h, field: "f", value: 1 }));
      await ok(post("setex", { key: a, value: "old", ttlMs: 60_000 }));
      expect(await ok(post("mset", { pairs: { [a]: 1, [b]: { x: 2 } } }))).toBe(true);
      expect(await ok(get("ttl", { key: a }))).toBe(-1);
      expect(await ok(post("mget", { keys: [a, b, h, missing] }))).toEqual({ [a]: 1, [b]: { x: 2 } });
      await ok(post("mset", { pairs: { [a]: 3, [h]: "was a hash" }, ttlMs: 60_000 }));
      expect(await ok(get("ttl", { key: h }))).toBeGreaterThan(50_000);
      expect(await ok(post("mget", { keys: [a, h] }))).toEqual({ [a]: 3, [h]: "was a hash" });
    });

    it("writes nothing when one pair is invalid", async () => {
      const [a, b] = [key(), key()];
      await fails(
        post("mset", { pairs: { [a]: 1, [b]: "x".repeat(1024 * 1024 + 1) } }),
        413,
        "VALUE_TOO_LARGE",
      );
      expect(await ok(post("mget", { keys: [a, b] }))).toEqual({});
    });
  });

  describe("keys (SPEC §3)", () => {
    it("matches Redis glob patterns over both types, in byte order", async () => {
      const base = key("glob");
      const names = ["a", "b", "c", "ab", "abc", "a*", "a?", "[x]", "é", "Z", "a\\b"];
      await ok(
        post("mset", {
          pairs: Object.fromEntries(names.filter((n) => n !== "c").map((n) => [`${base}:${n}`, 1])),
        }),
      );
      await ok(post("hset", { key: `${base}:c`, field: "f", value: 1 }));
      const list = async (pattern: string) =>
        ((await ok(get("keys", { pattern: `${base}:${pattern}` }))) as { keys: string[] }).keys.map((k) =>
          k.slice(base.length + 1),
        );
      expect(await list("*")).toEqual(["Z", "[x]", "a", "a*", "a?", "a\\b", "ab", "abc", "b", "c", "é"]);
      expect(await list("?")).toEqual(["Z", "a", "b", "c", "é"]);
      expect(await list("a?")).toEqual(["a*", "a?", "ab"]);
      expect(await list("[abc]")).toEqual(["a", "b", "c"]);
      expect(await list("[^a]")).toEqual(["Z", "b", "c", "é"]);
      expect(await list("[a-b]*")).toEqual(["a", "a*", "a?", "a\\b", "ab", "abc", "b"]);
      expect(await list("a\\*")).toEqual(["a*"]);
      expect(await list("a\\?")).toEqual(["a?"]);
      expect(await list("\\[x\\]")).toEqual(["[x]"]);
      expect(await list("a\\\\b")).toEqual(["a\\b"]);
      expect(await list("nothing*")).toEqual([]);
    });

    it("pages with limit and an opaque cursor until null", async () => {
      const base = key("page");
      const all = Array.from({ length: 7 }, (_, i) => `${base}:${i}`);
      await ok(post("mset", { pairs: Object.fromEntries(all.map((k) => [k, 1])) }));
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const params: Record<string, string | number> = { pattern: `${base}:*`, limit: 3 };
        if (cursor !== null) params.cursor = cursor;
        const r = (await ok(get("keys", params))) as { keys: string[]; cursor: string | null };
        expect(r.keys.length).toBeLessThanOrEqual(3);
        seen.push(...r.keys);
        cursor = r.cursor;
        if (cursor === null) break;
        expect(typeof cursor).toBe("string");
      }
      expect(cursor).toBeNull();
      expect(seen).toEqual(all);
    });

    it("answers BAD_REQUEST to an invalid limit or cursor", async () => {
      for (const limit of ["0", "1001", "-1", "abc", "1.5"]) {
        await fails(call("GET", `keys?${q({ pattern: "*", limit })}`), 400, "BAD_REQUEST");
      }
      await fails(call("GET", `keys?${q({ cursor: "not a cursor!" })}`), 400, "BAD_REQUEST");
    });
  });

  describe("locks (SPEC §3)", () => {
    it("acquires once, unlocks only with the holder's token", async () => {
      const k = key();
      const first = (await ok(post("lock", { key: k, ttlMs: 60_000 }))) as {
        acquired: boolean;
        token: string;
      };
      expect(first.acquired).toBe(true);
      expect(first.token.length).toBeGreaterThanOrEqual(22);
      expect(await ok(post("lock", { key: k, ttlMs: 60_000 }))).toEqual({ acquired: false, token: null });
      expect(await ok(post("unlock", { key: k, token: "wrong" }))).toBe(false);
      expect(await ok(post("extend", { key: k, token: "wrong", ttlMs: 1000 }))).toBe(false);
      expect(await ok(post("extend", { key: k, token: first.token, ttlMs: 60_000 }))).toBe(true);
      expect(await ok(post("unlock", { key: k, token: first.token }))).toBe(true);
      expect(await ok(post("unlock", { key: k, token: first.token }))).toBe(false);
      const again = (await ok(post("lock", { key: k, ttlMs: 60_000 }))) as {
        acquired: boolean;
        token: string;
      };
      expect(again.acquired).toBe(true);
      expect(again.token).not.toBe(first.token);
    });

    it("keeps locks apart from keys", async () => {
      const k = key();
      await ok(post("lock", { key: k, ttlMs: 60_000 }));
      expect(await ok(get("exists", { key: k }))).toBe(false);
      await ok(post("set", { key: k, value: 1 }));
      expect(await ok(post("lock", { key: k, ttlMs: 60_000 }))).toEqual({ acquired: false, token: null });
      expect(await ok(call("DELETE", `delete?${q({ key: k })}`))).toBe(1);
      expect(await ok(post("lock", { key: k, ttlMs: 60_000 }))).toEqual({ acquired: false, token: null });
    });

    it("lets exactly one of many concurrent callers acquire, and frees an expired lock", async () => {
      const k = key();
      const all = (await Promise.all(
        Array.from({ length: 12 }, () => ok(post("lock", { key: k, ttlMs: 400 }))),
      )) as { acquired: boolean; token: string | null }[];
      const winners = all.filter((r) => r.acquired);
      expect(winners.length).toBe(1);
      await sleep(600);
      expect(await ok(post("extend", { key: k, token: winners[0]?.token, ttlMs: 1000 }))).toBe(false);
      expect(((await ok(post("lock", { key: k, ttlMs: 1000 }))) as { acquired: boolean }).acquired).toBe(
        true,
      );
    });
  });

  describe(`L1 cache (SPEC §2, §4) on a ${options.l1} target`, () => {
    const l1TtlMs = options.l1TtlMs ?? 5_000;
    // These requests go through L1 on purpose: no Cache-Control header.
    const cached = (name: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
      call("GET", `${name}?${q(params)}`, { headers });

    it("serves a repeated read from L1 with X-KV-Cache: HIT, and no-cache skips it", async () => {
      const k = key();
      await ok(post("set", { key: k, value: "v1" }));
      const skipped = await cached("get", { key: k }, { "Cache-Control": "no-cache" });
      expect(skipped.body?.result).toBe("v1");
      expect(skipped.headers.get("x-kv-cache")).toBe("MISS");
      const second = await cached("get", { key: k });
      expect(second.body?.result).toBe("v1");
      expect(second.headers.get("x-kv-cache")).toBe("HIT");
      expect(
        (await cached("get", { key: k }, { "Cache-Control": "no-cache" })).headers.get("x-kv-cache"),
      ).toBe("MISS");
      // exists and mget share get's L1 only where one instance serves them all.
      if (options.l1 === "per-endpoint") await cached("exists", { key: k });
      const exists = await cached("exists", { key: k });
      expect(exists.body?.result).toBe(true);
      expect(exists.headers.get("x-kv-cache")).toBe("HIT");
      const mget = (headers: Record<string, string> = {}) =>
        call("POST", "mget", { body: { keys: [k] }, headers });
      const mget1 = await mget();
      expect(mget1.body?.result).toEqual({ [k]: "v1" });
      expect(mget1.headers.get("x-kv-cache")).toBe(options.l1 === "shared" ? "HIT" : "MISS");
      expect((await mget()).headers.get("x-kv-cache")).toBe("HIT");
      expect((await mget({ "Cache-Control": "no-cache" })).headers.get("x-kv-cache")).toBe("MISS");
    });

    it("marks a 404 from get with X-KV-Cache too; ttl and keys carry no HIT", async () => {
      const k = key();
      const miss = await cached("get", { key: k });
      expect(miss.status).toBe(404);
      expect(miss.headers.get("x-kv-cache")).toBe("MISS");
      expect((await cached("ttl", { key: k })).headers.get("x-kv-cache")).not.toBe("HIT");
    });

    it("never answers an expired key from L1", async () => {
      const k = key();
      await ok(post("setex", { key: k, value: "short", ttlMs: 500 }));
      expect((await cached("get", { key: k })).body?.result).toBe("short");
      expect((await cached("get", { key: k })).headers.get("x-kv-cache")).toBe("HIT");
      await sleep(700);
      const after = await cached("get", { key: k });
      expect(after.status).toBe(404);
      expect((await cached("exists", { key: k })).body?.result).toBe(false);
    });

    it("refreshes L1 from a no-cache read", async () => {
      const k = key();
      await ok(post("set", { key: k, value: "old" }));
      await cached("get", { key: k });
      await ok(post("set", { key: k, value: "new" }));
      const refreshed = await cached("get", { key: k }, { "Cache-Control": "no-cache" });
      expect(refreshed.body?.result).toBe("new");
      const next = await cached("get", { key: k });
      expect(next.body?.result).toBe("new");
      expect(next.headers.get("x-kv-cache")).toBe("HIT");
    });

    if (options.l1 === "shared") {
      it("reads its own writes through L1 (one instance serves every endpoint)", async () => {
        const k = key();
        await ok(post("set", { key: k, value: 1 }));
        expect((await cached("get", { key: k })).body?.result).toBe(1);
        await ok(post("set", { key: k, value: 2 }));
        expect((await cached("get", { key: k })).body?.result).toBe(2);
        await ok(post("incr", { key: k }));
        expect((await cached("get", { key: k })).body?.result).toBe(3);
        await ok(call("DELETE", `delete?${q({ key: k })}`));
        expect((await cached("get", { key: k })).status).toBe(404);
        await ok(post("hset", { key: k, field: "f", value: "x" }));
        expect((await cached("hget", { key: k, field: "f" })).body?.result).toBe("x");
        await ok(post("hdel", { key: k, fields: ["f"] }));
        expect((await cached("hgetall", { key: k })).body?.result).toEqual({});
      });
    } else {
      it(`sees a write made through another function within the L1 TTL (${l1TtlMs} ms)`, async () => {
        const k = key();
        await ok(post("set", { key: k, value: "before" }));
        expect((await cached("get", { key: k })).body?.result).toBe("before");
        await ok(post("set", { key: k, value: "after" }));
        await sleep(l1TtlMs + 200);
        const r = await cached("get", { key: k });
        expect(r.body?.result).toBe("after");
        expect(r.headers.get("x-kv-cache")).toBe("MISS");
      });
    }
  });

  describe("read-your-writes across instances (SPEC §8)", () => {
    const token = (r: Reply) => r.headers.get("x-kv-sync-token");

    it("answers every authenticated request with a sync token, errors too", async () => {
      const k = key();
      expect(token(await post("set", { key: k, value: 1 }))).toMatch(/^\d+-\d+(-[0-9a-z]+)?$/);
      expect(token(await call("GET", `get?${q({ key: key("missing") })}`))).toMatch(/^\d+-\d+/);
      expect(token(await post("incr", { key: k, by: 1.5 }))).toMatch(/^\d+-\d+/);
      expect(token(await call("GET", "nope"))).toMatch(/^\d+-\d+/);
      expect(token(await call("GET", `get?${q({ key: k })}`, { auth: "wrong" }))).toBeNull();
    });

    it("shows a write to a read that sends the write's token, whatever L1 holds", async () => {
      const k = key();
      await ok(post("set", { key: k, value: "before" }));
      const read = (headers: Record<string, string> = {}) => call("GET", `get?${q({ key: k })}`, { headers });
      await read();
      expect((await read()).headers.get("x-kv-cache")).toBe("HIT");
      const written = await post("set", { key: k, value: "after" });
      const sent = token(written) ?? "";
      const r = await read({ "X-KV-Sync-Token": sent });
      expect(r.body?.result).toBe("after");
      // Its answer stands for the write too, so the next read may send that instead.
      const again = await read({ "X-KV-Sync-Token": token(r) ?? "" });
      expect(again.body?.result).toBe("after");
      // Nonsense is ignored, not refused.
      expect((await read({ "X-KV-Sync-Token": "junk" })).status).toBe(200);
    });

    it("lets the SDK client read its own writes on its own", async () => {
      const client = createClient({ url: origin(), token: options.token, fetch: options.fetch });
      const k = key();
      await client.set(k, "before");
      expect(await client.get(k)).toBe("before");
      expect(await client.get(k)).toBe("before");
      await client.set(k, "after");
      expect(await client.get(k)).toBe("after");
      const h = key("hash");
      await client.hSet(h, { f: 1 });
      expect(await client.hGetAll(h)).toEqual({ f: 1 });
      await client.hIncrBy(h, "f", 2);
      expect(await client.hGet(h, "f")).toBe(3);
    });
  });

  describe("the Redis protocol (SPEC §7) with @upstash/redis", () => {
    const redis = (token = options.token, extra: Partial<RedisConfigNodejs> = {}) =>
      new Redis({ url: `${origin()}/api/redis`, token, ...extra });

    it("runs the basic commands, auto-pipelined, reading its own writes", async () => {
      const r = redis();
      const k = key("redis");
      expect(await r.set(k, { user: 1 })).toBe("OK");
      expect(await r.get(k)).toEqual({ user: 1 });
      expect(await r.set(k, "v2")).toBe("OK");
      expect(await r.get(k)).toBe("v2");
      expect(await r.incr(`${k}:n`)).toBe(1);
      expect(await r.incrby(`${k}:n`, 4)).toBe(5);
      expect(await r.hset(`${k}:h`, { a: "1", b: "x" })).toBe(2);
      expect(await r.hgetall(`${k}:h`)).toEqual({ a: 1, b: "x" });
      expect(await r.expire(k, 100)).toBe(1);
      expect(await r.ttl(k)).toBeGreaterThan(98);
      expect(await r.mget(k, `${k}:n`, key("none"))).toEqual(["v2", 5, null]);
      expect(await r.del(k, `${k}:n`)).toBe(2);
      expect(await r.exists(k, `${k}:h`)).toBe(1);
    });

    it("runs explicit pipelines and multi(), base64 on and off", async () => {
      for (const r of [
        redis(),
        redis(options.token, { responseEncoding: false, enableAutoPipelining: false }),
      ]) {
        const k = key("redis-tx");
        const p = r.pipeline();
        p.set(k, "1");
        p.incr(k);
        p.get(k);
        expect(await p.exec()).toEqual(["OK", 2, 2]);
        const tx = r.multi();
        tx.incr(k);
        tx.hset(k, { f: "v" });
        tx.get(k);
        const [n, hset, got] = (await tx.exec({ keepErrors: true })) as { result: unknown; error?: string }[];
        expect(n?.result).toBe(3);
        expect(hset?.error).toMatch(/^WRONGTYPE/);
        expect(got?.result).toBe(3);
      }
    });

    it("runs Lua scripts: @upstash/ratelimit's fixed and sliding windows and token bucket", async () => {
      const r = redis();
      const k = key("lua");
      expect(await r.eval("return {KEYS[1], ARGV[1], 2.5}", [k], ["a"])).toEqual([k, "a", 2]);
      for (const limiter of [
        Ratelimit.fixedWindow(2, "100000 s"),
        Ratelimit.slidingWindow(2, "100000 s"),
        Ratelimit.tokenBucket(1, "100000 s", 2),
      ]) {
        const rl = new Ratelimit({ redis: r, limiter, prefix: key("rl"), ephemeralCache: false });
        const passed = [];
        for (let i = 0; i < 3; i++) passed.push((await rl.limit("id")).success);
        expect(passed).toEqual([true, true, false]);
        expect((await rl.getRemaining("id")).remaining).toBe(0);
      }
    });

    it("lets the read-only token read, refuses its writes, and refuses a wrong token", async () => {
      const k = key("redis-ro");
      await redis().set(k, "v");
      const reader = redis(options.readonlyToken);
      expect(await reader.get(k)).toBe("v");
      await expect(reader.set(k, "w")).rejects.toThrow(/NOPERM/);
      await expect(redis("wrong-token").get(k)).rejects.toThrow(/Unauthorized/);
      expect(await reader.get(k)).toBe("v");
    });
  });
}
