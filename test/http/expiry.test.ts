import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/engine/memory-store.ts";
import { fakeClock, type TempSqlite, tempSqlite } from "../helpers/databases.ts";
import {
  client,
  createHarness,
  expectError,
  expectResult,
  type Harness,
  resultOf,
} from "../helpers/harness.ts";

/**
 * TTL rules of SPEC §1 on fake time, for SQLite and the memory store, each behind an L1 that
 * shares the clock (60 s, longer than every TTL here, so only the key's expiry can end a hit).
 */
describe.each(["sqlite", "memory"] as const)("expiry on %s behind L1", (backend) => {
  const clock = fakeClock();
  let db: TempSqlite;
  let h: Harness;
  let kv: ReturnType<typeof client>;

  beforeAll(() => {
    db = tempSqlite();
    h = createHarness(db.url, {
      clock,
      env: { KV_L1_TTL_MS: "60000" },
      ...(backend === "memory" ? { inner: new MemoryStore({ clock }) } : {}),
    });
    kv = client(h.app);
  });

  afterAll(async () => {
    await h.close();
    db.remove();
  });

  /** Reads the key until L1 serves it, so the expiry below is checked against an L1 entry. */
  async function warm(key: string): Promise<void> {
    await kv.get("get", { key });
    expect((await kv.get("get", { key })).headers.get("X-KV-Cache")).toBe("HIT");
  }

  it("an expired key is gone for get, exists, ttl, mget, keys, even after an L1 hit", async () => {
    await kv.post("setex", { key: "e:a", value: "v", ttlMs: 1000 });
    await kv.post("mget", { keys: ["e:a"] });
    await warm("e:a");
    await kv.get("exists", { key: "e:a" });
    clock.advance(999);
    expectResult(await kv.get("get", { key: "e:a" }), "v");
    expectResult(await kv.get("ttl", { key: "e:a" }), 1);
    clock.advance(1);
    expectError(await kv.get("get", { key: "e:a" }), 404, "NOT_FOUND");
    expectResult(await kv.get("exists", { key: "e:a" }), false);
    expectResult(await kv.get("ttl", { key: "e:a" }), -2);
    expectResult(await kv.post("mget", { keys: ["e:a"] }), {});
    expectResult(await kv.get("keys", { pattern: "e:a*" }), { keys: [], cursor: null });
    expectResult(await kv.del("e:a"), 0);
    expectResult(await kv.post("expire", { key: "e:a", ttlMs: 1000 }), false);
  });

  it("ttl counts down exactly", async () => {
    await kv.post("set", { key: "e:ttl", value: 1, ttlMs: 10_000 });
    expectResult(await kv.get("ttl", { key: "e:ttl" }), 10_000);
    clock.advance(2_500);
    expectResult(await kv.get("ttl", { key: "e:ttl" }), 7_500);
  });

  it("an expired hash is gone for hget, hgetall and exists", async () => {
    await kv.post("hset", { key: "e:h", fields: { a: 1, b: 2 } });
    expectResult(await kv.post("expire", { key: "e:h", ttlMs: 500 }), true);
    await kv.get("hgetall", { key: "e:h" });
    await kv.get("hget", { key: "e:h", field: "a" });
    expect((await kv.get("hget", { key: "e:h", field: "a" })).headers.get("X-KV-Cache")).toBe("HIT");
    clock.advance(500);
    expectError(await kv.get("hget", { key: "e:h", field: "a" }), 404, "NOT_FOUND");
    expectResult(await kv.get("hgetall", { key: "e:h" }), {});
    expectResult(await kv.get("exists", { key: "e:h" }), false);
    expectResult(await kv.post("hdel", { key: "e:h", fields: ["a"] }), 0);
  });

  it("a hash written after expiry starts empty and without TTL", async () => {
    await kv.post("hset", { key: "e:h2", fields: { old: 1 } });
    await kv.post("expire", { key: "e:h2", ttlMs: 100 });
    clock.advance(100);
    expectResult(await kv.post("hset", { key: "e:h2", field: "new", value: 2 }), 1);
    expectResult(await kv.get("hgetall", { key: "e:h2" }), { new: 2 });
    expectResult(await kv.get("ttl", { key: "e:h2" }), -1);
  });

  it("a string expired under a hash key is gone for hset", async () => {
    await kv.post("setex", { key: "e:sh", value: "s", ttlMs: 100 });
    clock.advance(100);
    expectResult(await kv.post("hset", { key: "e:sh", field: "f", value: 1 }), 1);
    expectResult(await kv.post("hincrby", { key: "e:sh", field: "n", by: 3 }), 3);
  });

  it("expire sets the exact deadline", async () => {
    await kv.post("set", { key: "e:exp", value: 1 });
    expectResult(await kv.post("expire", { key: "e:exp", ttlMs: 500 }), true);
    await warm("e:exp");
    clock.advance(499);
    expectResult(await kv.get("get", { key: "e:exp" }), 1);
    clock.advance(1);
    expectError(await kv.get("get", { key: "e:exp" }), 404, "NOT_FOUND");
  });

  it("set nx and incr treat an expired key as missing", async () => {
    await kv.post("setex", { key: "e:nx", value: "old", ttlMs: 100 });
    await kv.post("setex", { key: "e:incr", value: 41, ttlMs: 100 });
    clock.advance(100);
    expectResult(await kv.post("set", { key: "e:nx", value: "new", nx: true }), true);
    expectResult(await kv.get("get", { key: "e:nx" }), "new");
    expectResult(await kv.get("ttl", { key: "e:nx" }), -1);
    expectResult(await kv.post("set", { key: "e:xx", value: 1, ttlMs: 100 }), true);
    clock.advance(100);
    expectResult(await kv.post("set", { key: "e:xx", value: 2, xx: true }), false);
    expectResult(await kv.post("incr", { key: "e:incr" }), 1);
    expectResult(await kv.get("ttl", { key: "e:incr" }), -1);
  });

  it("incr and hash writes keep the remaining TTL", async () => {
    await kv.post("setex", { key: "e:ki", value: "5", ttlMs: 1000 });
    await kv.post("hset", { key: "e:kh", fields: { a: 1, b: 2 } });
    await kv.post("expire", { key: "e:kh", ttlMs: 1000 });
    clock.advance(200);
    expectResult(await kv.post("incr", { key: "e:ki" }), 6);
    expectResult(await kv.post("decr", { key: "e:ki", by: 2 }), 4);
    expectResult(await kv.get("ttl", { key: "e:ki" }), 800);
    expectResult(await kv.post("hset", { key: "e:kh", field: "c", value: 3 }), 1);
    expectResult(await kv.post("hincrby", { key: "e:kh", field: "a", by: 1 }), 2);
    expectResult(await kv.post("hdel", { key: "e:kh", fields: ["b"] }), 1);
    expectResult(await kv.get("ttl", { key: "e:kh" }), 800);
    clock.advance(800);
    expectError(await kv.get("get", { key: "e:ki" }), 404, "NOT_FOUND");
    expectResult(await kv.get("hgetall", { key: "e:kh" }), {});
  });

  it("mset with ttlMs expires every pair; mset without it clears a TTL", async () => {
    await kv.post("mset", { pairs: { "e:m1": 1, "e:m2": 2 }, ttlMs: 300 });
    await kv.post("setex", { key: "e:m3", value: 3, ttlMs: 300 });
    await kv.post("mset", { pairs: { "e:m3": 33 } });
    await kv.post("mget", { keys: ["e:m1", "e:m2", "e:m3"] });
    clock.advance(300);
    expectResult(await kv.post("mget", { keys: ["e:m1", "e:m2", "e:m3"] }), { "e:m3": 33 });
  });

  it("a lock expires; a stale token can neither unlock nor extend the new holder's lock", async () => {
    const first = resultOf(await kv.post("lock", { key: "e:lock", ttlMs: 1000 })) as { token: string };
    clock.advance(999);
    expectResult(await kv.post("lock", { key: "e:lock", ttlMs: 1000 }), { acquired: false, token: null });
    clock.advance(1);
    expectResult(await kv.post("extend", { key: "e:lock", token: first.token, ttlMs: 1000 }), false);
    const second = resultOf(await kv.post("lock", { key: "e:lock", ttlMs: 1000 })) as {
      acquired: boolean;
      token: string;
    };
    expect(second.acquired).toBe(true);
    expectResult(await kv.post("unlock", { key: "e:lock", token: first.token }), false);
    expectResult(await kv.post("extend", { key: "e:lock", token: first.token, ttlMs: 1000 }), false);
    expectResult(await kv.post("lock", { key: "e:lock", ttlMs: 1000 }), { acquired: false, token: null });
    expectResult(await kv.post("unlock", { key: "e:lock", token: second.token }), true);
  });

  it("extend resets the lock's TTL from now", async () => {
    const held = resultOf(await kv.post("lock", { key: "e:ext", ttlMs: 1000 })) as { token: string };
    clock.advance(900);
    expectResult(await kv.post("extend", { key: "e:ext", token: held.token, ttlMs: 1000 }), true);
    clock.advance(999);
    expectResult(await kv.post("lock", { key: "e:ext", ttlMs: 1000 }), { acquired: false, token: null });
    clock.advance(1);
    expect(resultOf(await kv.post("lock", { key: "e:ext", ttlMs: 1000 }))).toMatchObject({ acquired: true });
  });

  it("keys lists only live keys while paging", async () => {
    await kv.post("mset", { pairs: { "e:k1": 1, "e:k3": 3 } });
    await kv.post("setex", { key: "e:k2", value: 2, ttlMs: 50 });
    await kv.post("hset", { key: "e:k4", field: "f", value: 1 });
    await kv.post("expire", { key: "e:k4", ttlMs: 50 });
    expectResult(await kv.get("keys", { pattern: "e:k*" }), {
      keys: ["e:k1", "e:k2", "e:k3", "e:k4"],
      cursor: null,
    });
    clock.advance(50);
    expectResult(await kv.get("keys", { pattern: "e:k*" }), { keys: ["e:k1", "e:k3"], cursor: null });
    const page = resultOf(await kv.get("keys", { pattern: "e:k*", limit: "1" })) as { cursor: string };
    expectResult(await kv.get("keys", { pattern: "e:k*", limit: "1", cursor: page.cursor }), {
      keys: ["e:k3"],
      cursor: null,
    });
  });
});
