import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/engine/memory-store.ts";
import { call, createHarness, expectError, type Harness } from "../helpers/harness.ts";

/** Nothing listens on port 1: every connection is refused at once. */
const DOWN_URL = "postgresql://postgres:s3cret-pw@127.0.0.1:1/none";

describe("503 UNAVAILABLE when the database cannot be reached", () => {
  let h: Harness;

  beforeAll(() => {
    h = createHarness(DOWN_URL);
  });

  afterAll(async () => {
    await h.close();
  });

  function expectUnavailable(reply: Awaited<ReturnType<typeof call>>): void {
    expectError(reply, 503, "UNAVAILABLE");
    for (const secret of [
      "postgresql://",
      "127.0.0.1",
      "s3cret-pw",
      "none",
      "SELECT",
      "INSERT",
      "ECONNREFUSED",
    ]) {
      expect(reply.text).not.toContain(secret);
    }
  }

  it("on /health, without auth", async () => {
    expectUnavailable(await call(h.app, "GET", "health", { token: null }));
  });

  it.each([
    ["GET", "get", { key: "k" }, undefined],
    ["GET", "exists", { key: "k" }, undefined],
    ["GET", "ttl", { key: "k" }, undefined],
    ["GET", "keys", {}, undefined],
    ["POST", "set", undefined, { key: "k", value: 1 }],
    ["POST", "incr", undefined, { key: "k" }],
    ["POST", "hset", undefined, { key: "k", field: "f", value: 1 }],
    ["POST", "mget", undefined, { keys: ["k"] }],
    ["POST", "lock", undefined, { key: "k", ttlMs: 1000 }],
  ] as const)("on %s %s", async (method, endpoint, query, body) => {
    expectUnavailable(await call(h.app, method, endpoint, { query, body }));
  });

  it("after the checks that need no database", async () => {
    expectError(await call(h.app, "GET", "get", { query: { key: "k" }, token: null }), 401, "UNAUTHORIZED");
    expectError(await call(h.app, "GET", "get", { query: { key: "" } }), 400, "INVALID_KEY");
    expectError(await call(h.app, "GET", "/api/kv/nope"), 404, "NOT_FOUND");
  });
});

/** A store whose write fails the way a bug would: with a plain Error full of details. */
class BrokenStore extends MemoryStore {
  override async set(): Promise<boolean> {
    throw new Error('SQL failed: INSERT INTO "kv_entries" password=hunter2');
  }
}

describe("500 INTERNAL for anything else", () => {
  it("answers a generic message and logs the details server-side", async () => {
    const logged: unknown[] = [];
    const h = createHarness("file:/unused", {
      inner: new BrokenStore(),
      app: {
        log: {
          error: (fields: { err?: unknown }) => logged.push(fields.err),
          warn: () => {},
          info: () => {},
          debug: () => {},
          isLevelEnabled: () => false,
        },
      },
    });
    try {
      const reply = await call(h.app, "POST", "set", { body: { key: "k", value: 1 } });
      expectError(reply, 500, "INTERNAL");
      expect(reply.text).not.toContain("INSERT");
      expect(reply.text).not.toContain("hunter2");
      expect(logged).toHaveLength(1);
      expect(String((logged[0] as Error).message)).toContain("hunter2");
    } finally {
      await h.close();
    }
  });
});
