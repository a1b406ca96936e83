import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/engine/memory-store.ts";
import { type TempSqlite, tempSqlite } from "../helpers/databases.ts";
import {
  call,
  createHarness,
  expectError,
  expectResult,
  FULL_TOKEN,
  type Harness,
  READ_TOKEN,
  sqliteHarness,
} from "../helpers/harness.ts";

/** One valid request per endpoint: [method, endpoint, query, body]. */
const READS: [string, string, Record<string, string> | undefined, unknown][] = [
  ["GET", "get", { key: "au:s" }, undefined],
  ["GET", "exists", { key: "au:s" }, undefined],
  ["GET", "ttl", { key: "au:s" }, undefined],
  ["GET", "hget", { key: "au:h", field: "f" }, undefined],
  ["GET", "hgetall", { key: "au:h" }, undefined],
  ["POST", "mget", undefined, { keys: ["au:s"] }],
  ["GET", "keys", { pattern: "au:*" }, undefined],
];
const WRITES: [string, string, Record<string, string> | undefined, unknown][] = [
  ["POST", "set", undefined, { key: "au:w", value: 1 }],
  ["POST", "setex", undefined, { key: "au:w", value: 1, ttlMs: 1000 }],
  ["DELETE", "delete", { key: "au:s" }, undefined],
  ["POST", "expire", undefined, { key: "au:s", ttlMs: 1000 }],
  ["POST", "incr", undefined, { key: "au:w" }],
  ["POST", "decr", undefined, { key: "au:w" }],
  ["POST", "hset", undefined, { key: "au:h", field: "g", value: 1 }],
  ["POST", "hdel", undefined, { key: "au:h", fields: ["f"] }],
  ["POST", "hincrby", undefined, { key: "au:h", field: "n", by: 1 }],
  ["POST", "mset", undefined, { pairs: { "au:w": 1 } }],
  ["POST", "lock", undefined, { key: "au:lock", ttlMs: 60_000 }],
  ["POST", "unlock", undefined, { key: "au:lock", token: "t" }],
  ["POST", "extend", undefined, { key: "au:lock", token: "t", ttlMs: 1000 }],
];
const ALL = [...READS, ...WRITES];

let h: Harness;

beforeAll(async () => {
  h = sqliteHarness();
  expectResult(await call(h.app, "POST", "set", { body: { key: "au:s", value: "s" } }), true);
  expectResult(await call(h.app, "POST", "hset", { body: { key: "au:h", field: "f", value: 1 } }), 1);
});

afterAll(async () => {
  await h.close();
});

describe("tokens (KV_TOKEN and KV_READONLY_TOKEN)", () => {
  it.each(ALL)("%s %s without a token is 401 UNAUTHORIZED", async (method, endpoint, query, body) => {
    expectError(await call(h.app, method, endpoint, { query, body, token: null }), 401, "UNAUTHORIZED");
  });

  it.each([
    ["a wrong token", { Authorization: "Bearer wrong-token" }],
    ["a prefix of the token", { Authorization: `Bearer ${FULL_TOKEN.slice(0, -1)}` }],
    ["the token plus a character", { Authorization: `Bearer ${FULL_TOKEN}x` }],
    ["another scheme", { Authorization: `Basic ${FULL_TOKEN}` }],
    ["the bare token", { Authorization: FULL_TOKEN }],
    ["an empty bearer", { Authorization: "Bearer " }],
  ])("%s is 401 UNAUTHORIZED, and nothing is written", async (_name, headers) => {
    const reply = await call(h.app, "POST", "set", {
      body: { key: "au:401", value: 1 },
      token: null,
      headers,
    });
    expectError(reply, 401, "UNAUTHORIZED");
    expectResult(await call(h.app, "GET", "exists", { query: { key: "au:401" } }), false);
  });

  it("the 401 message holds no token", async () => {
    const reply = await call(h.app, "GET", "get", { query: { key: "au:s" }, token: "wrong-token" });
    expectError(reply, 401, "UNAUTHORIZED");
    expect(reply.text).not.toContain("wrong-token");
    expect(reply.text).not.toContain(FULL_TOKEN);
  });

  it.each(READS)("the read-only token may call %s %s", async (method, endpoint, query, body) => {
    const reply = await call(h.app, method, endpoint, { query, body, token: READ_TOKEN });
    expect(reply.status).toBe(200);
    expect(reply.body).toHaveProperty("result");
  });

  it.each(WRITES)(
    "the read-only token gets 403 FORBIDDEN for %s %s",
    async (method, endpoint, query, body) => {
      expectError(await call(h.app, method, endpoint, { query, body, token: READ_TOKEN }), 403, "FORBIDDEN");
    },
  );

  it("a refused read-only write changes nothing", async () => {
    await call(h.app, "POST", "set", { body: { key: "au:ro", value: "before" } });
    for (const [method, endpoint, query, body] of [
      ["POST", "set", undefined, { key: "au:ro", value: "after" }],
      ["DELETE", "delete", { key: "au:ro" }, undefined],
      ["POST", "mset", undefined, { pairs: { "au:ro": "after" } }],
    ] as const) {
      expectError(await call(h.app, method, endpoint, { query, body, token: READ_TOKEN }), 403, "FORBIDDEN");
    }
    expectResult(await call(h.app, "GET", "get", { query: { key: "au:ro" } }), "before");
    expectResult(await call(h.app, "GET", "ttl", { query: { key: "au:ro" } }), -1);
  });

  it.each(ALL)("the full token may call %s %s", async (method, endpoint, query, body) => {
    const reply = await call(h.app, method, endpoint, { query, body });
    expect(reply.status, reply.text).toBe(200);
  });
});

describe("check order: 401, then 404/405, then 403, then input", () => {
  it("401 comes before 404 for an unknown path", async () => {
    expectError(await call(h.app, "GET", "/api/kv/nope", { token: null }), 401, "UNAUTHORIZED");
    expectError(await call(h.app, "GET", "/elsewhere", { token: "wrong" }), 401, "UNAUTHORIZED");
  });

  it("401 comes before 405 for a wrong method", async () => {
    expectError(await call(h.app, "GET", "set", { token: null }), 401, "UNAUTHORIZED");
    expectError(await call(h.app, "POST", "get", { token: "wrong", raw: "{" }), 401, "UNAUTHORIZED");
  });

  it("401 comes before input checks", async () => {
    expectError(await call(h.app, "POST", "set", { raw: "{not json", token: null }), 401, "UNAUTHORIZED");
  });

  it.each([
    ["/api/kv/nope"],
    ["/api/kv/"],
    ["/api/kv"],
    ["/api/kv/get/extra"],
    ["/api/kv/GET"],
    ["/"],
    ["/other/get"],
  ])("an unknown path %s is 404 NOT_FOUND", async (path) => {
    expectError(await call(h.app, "GET", path), 404, "NOT_FOUND");
    expectError(await call(h.app, "POST", path, { body: {} }), 404, "NOT_FOUND");
    expectError(await call(h.app, "GET", path, { token: READ_TOKEN }), 404, "NOT_FOUND");
  });

  it.each([
    ["POST", "get", "GET, HEAD"],
    ["DELETE", "get", "GET, HEAD"],
    ["GET", "set", "POST"],
    ["PUT", "set", "POST"],
    ["GET", "delete", "DELETE"],
    ["POST", "delete", "DELETE"],
    ["GET", "mget", "POST"],
    ["POST", "keys", "GET, HEAD"],
    ["GET", "lock", "POST"],
    ["PATCH", "hset", "POST"],
  ])("%s %s is 405 METHOD_NOT_ALLOWED with Allow: %s", async (method, endpoint, allow) => {
    const reply = await call(h.app, method, endpoint, { raw: method === "GET" ? undefined : "{" });
    expectError(reply, 405, "METHOD_NOT_ALLOWED", [allow]);
    expect(reply.headers.get("Allow")).toBe(allow);
  });

  it("405 comes before 403", async () => {
    expectError(await call(h.app, "GET", "set", { token: READ_TOKEN }), 405, "METHOD_NOT_ALLOWED");
  });

  it("403 comes before input checks", async () => {
    expectError(await call(h.app, "POST", "set", { raw: "{not json", token: READ_TOKEN }), 403, "FORBIDDEN");
    expectError(await call(h.app, "POST", "set", { body: { key: "" }, token: READ_TOKEN }), 403, "FORBIDDEN");
    expectError(await call(h.app, "DELETE", "delete", { token: READ_TOKEN }), 403, "FORBIDDEN");
  });

  it("input errors come after permission for a read", async () => {
    expectError(
      await call(h.app, "GET", "get", { query: { key: "" }, token: READ_TOKEN }),
      400,
      "INVALID_KEY",
    );
    expectError(await call(h.app, "POST", "mget", { raw: "[", token: READ_TOKEN }), 400, "BAD_REQUEST");
  });

  it("input is checked before the operation", async () => {
    await call(h.app, "POST", "hset", { body: { key: "au:order", field: "f", value: 1 } });
    expectError(
      await call(h.app, "POST", "incr", { body: { key: "au:order", by: "x" } }),
      400,
      "BAD_REQUEST",
      ["by"],
    );
  });
});

describe("/health", () => {
  it("answers without a token", async () => {
    const reply = await call(h.app, "GET", "health", { token: null });
    expectResult(reply, { status: "ok", db: "sqlite" });
  });

  it("answers with any token", async () => {
    expectResult(await call(h.app, "GET", "health", { token: READ_TOKEN }), { status: "ok", db: "sqlite" });
    expectResult(await call(h.app, "GET", "health"), { status: "ok", db: "sqlite" });
  });

  it("answers 405 to another method", async () => {
    const reply = await call(h.app, "POST", "health", { token: null, body: {} });
    expectError(reply, 405, "METHOD_NOT_ALLOWED");
    expect(reply.headers.get("Allow")).toBe("GET, HEAD");
  });
});

describe("no token configured", () => {
  const NO_TOKENS = { KV_TOKEN: undefined, KV_READONLY_TOKEN: undefined };
  let db: TempSqlite;
  const harnesses: Harness[] = [];

  beforeAll(() => {
    db = tempSqlite();
  });

  afterAll(async () => {
    for (const x of harnesses) await x.close();
    db.remove();
  });

  function node(address: string | undefined): Harness {
    const x = createHarness(db.url, {
      env: NO_TOKENS,
      app: { anonymous: () => "loopback", remoteAddress: () => address },
    });
    harnesses.push(x);
    return x;
  }

  it.each(["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])(
    "the Node server allows loopback client %s full access",
    async (address) => {
      const x = node(address);
      expectResult(
        await call(x.app, "POST", "set", { body: { key: `anon:${address}`, value: 1 }, token: null }),
        true,
      );
      expectResult(await call(x.app, "GET", "get", { query: { key: `anon:${address}` }, token: null }), 1);
    },
  );

  it.each(["10.0.0.5", "192.168.1.1", "::ffff:10.0.0.1", "2001:db8::1", "128.0.0.1", undefined])(
    "the Node server refuses non-loopback client %s with 401",
    async (address) => {
      const x = node(address);
      expectError(await call(x.app, "GET", "get", { query: { key: "k" }, token: null }), 401, "UNAUTHORIZED");
      expectError(await call(x.app, "GET", "/api/kv/nope", { token: null }), 401, "UNAUTHORIZED");
    },
  );

  it.each<Record<string, string>>([{ "X-Forwarded-For": "203.0.113.9" }, { Forwarded: "for=203.0.113.9" }])(
    "the Node server refuses a request a local proxy forwarded (%o)",
    async (headers) => {
      const x = node("127.0.0.1");
      expectError(
        await call(x.app, "GET", "get", { query: { key: "k" }, token: null, headers }),
        401,
        "UNAUTHORIZED",
      );
    },
  );

  it("with a token configured, a loopback client still needs it", async () => {
    const x = createHarness(db.url, {
      app: { anonymous: () => "loopback", remoteAddress: () => "127.0.0.1" },
    });
    harnesses.push(x);
    expectError(await call(x.app, "GET", "get", { query: { key: "k" }, token: null }), 401, "UNAUTHORIZED");
    expectResult(await call(x.app, "GET", "exists", { query: { key: "k" } }), false);
  });

  it("a serverless handler answers 401 by default", async () => {
    const x = createHarness(db.url, { env: NO_TOKENS });
    harnesses.push(x);
    expectError(await call(x.app, "GET", "get", { query: { key: "k" }, token: null }), 401, "UNAUTHORIZED");
    expectError(
      await call(x.app, "GET", "get", { query: { key: "k" }, token: "anything" }),
      401,
      "UNAUTHORIZED",
    );
    expectResult(await call(x.app, "GET", "health", { token: null }), { status: "ok", db: "sqlite" });
  });

  it("a serverless handler allows anonymous calls with KV_ALLOW_ANONYMOUS=1", async () => {
    const x = createHarness(db.url, { env: { ...NO_TOKENS, KV_ALLOW_ANONYMOUS: "1" } });
    harnesses.push(x);
    expectResult(
      await call(x.app, "POST", "set", { body: { key: "anon:sls", value: 2 }, token: null }),
      true,
    );
    expectResult(await call(x.app, "GET", "get", { query: { key: "anon:sls" }, token: null }), 2);
  });

  it("only KV_READONLY_TOKEN configured: reads with it, writes 403, none 401", async () => {
    const x = createHarness(db.url, { env: { KV_TOKEN: undefined } });
    harnesses.push(x);
    expectResult(await call(x.app, "GET", "exists", { query: { key: "k" }, token: READ_TOKEN }), false);
    expectError(
      await call(x.app, "POST", "set", { body: { key: "k", value: 1 }, token: READ_TOKEN }),
      403,
      "FORBIDDEN",
    );
    expectError(
      await call(x.app, "GET", "exists", { query: { key: "k" }, token: null }),
      401,
      "UNAUTHORIZED",
    );
  });
});

describe("a per-endpoint function", () => {
  it("serves its endpoint and answers 404 for the others", async () => {
    const x = createHarness("file:/unused", { inner: new MemoryStore(), app: { endpoints: ["get"] } });
    expectError(await call(x.app, "GET", "get", { query: { key: "fn:a" } }), 404, "NOT_FOUND");
    expectError(await call(x.app, "POST", "set", { body: { key: "fn:a", value: 1 } }), 404, "NOT_FOUND", [
      "set",
    ]);
    expectError(await call(x.app, "GET", "set", { token: null }), 401, "UNAUTHORIZED");
    await x.close();
  });
});
