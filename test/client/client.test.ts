import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import {
  createClient,
  ForbiddenError,
  type KvClient,
  LockBusyError,
  NotFoundError,
  NotIntegerError,
  UnauthorizedError,
  WrongTypeError,
} from "../../src/client/index.ts";
import { openPrismaStore } from "../../src/engine/sql/open.ts";
import { fakeClock, type TempSqlite, tempSqlite } from "../helpers/databases.ts";
import { FULL_TOKEN, startKvServer, uniqueId } from "../helpers/harness.ts";

const READONLY_TOKEN = "sdk-readonly-token-0123456789";

// The real Node server on a loopback port, with its default L1 cache: the client goes over HTTP.
let server: RunningServer;
let kv: KvClient;
let db: TempSqlite;

beforeAll(async () => {
  db = tempSqlite();
  server = await startKvServer({ env: { DATABASE_URL: db.url, KV_READONLY_TOKEN: READONLY_TOKEN } });
  kv = createClient({ url: server.url, token: FULL_TOKEN });
});
afterAll(async () => {
  await server?.close();
  db?.remove();
});

const key = (name: string) => `${name}:${uniqueId()}`;

describe("the README example", () => {
  it("runs as written", async () => {
    const data = { userId: 1, roles: ["admin"] };
    await kv.set("user:1:name", "John");
    await kv.setEx("session:abc", data, 30 * 60_000);
    await kv.incrBy("user:points", 10);
    let ran = false;
    if (await kv.lock("resource:lock", 30_000)) {
      try {
        ran = true;
      } finally {
        await kv.unlock("resource:lock");
      }
    }
    expect(ran).toBe(true);
    expect(await kv.get<string>("user:1:name")).toBe("John");
    expect(await kv.get("session:abc")).toEqual(data);
    expect(await kv.ttl("session:abc")).toBeGreaterThan(29 * 60_000);
    expect(await kv.get<number>("user:points")).toBe(10);
    // Released: anyone can take the lock again.
    expect(await createClient({ url: server.url, token: FULL_TOKEN }).lock("resource:lock", 1_000)).toBe(
      true,
    );
  });
});

describe("reads", () => {
  it("tells a missing key (undefined) from a stored null, and getOrThrow rejects with NotFoundError", async () => {
    const k = key("null");
    await kv.set(k, null);
    expect(await kv.get(k)).toBeNull();
    expect(await kv.getOrThrow(k)).toBeNull();
    expect(await kv.get(key("missing"))).toBeUndefined();
    await expect(kv.getOrThrow(key("missing"))).rejects.toBeInstanceOf(NotFoundError);
  });

  it("percent-encodes keys with any characters", async () => {
    for (const k of ["a b&c=d#e?f", "100%_done", "emoji 🎉", "slash/and+plus", 'quote"s']) {
      await kv.set(k, k);
      expect(await kv.get(k)).toBe(k);
      expect(await kv.exists(k)).toBe(true);
      expect(await kv.delete(k)).toBe(1);
    }
  });
});

describe("every operation maps to its endpoint", () => {
  it("strings, counters and TTLs", async () => {
    const k = key("s");
    expect(await kv.set(k, 1, { nx: true })).toBe(true);
    expect(await kv.set(k, 2, { nx: true })).toBe(false);
    expect(await kv.incr(k)).toBe(2);
    expect(await kv.decr(k)).toBe(1);
    expect(await kv.decr(k, 5)).toBe(-4);
    expect(await kv.ttl(k)).toBe(-1);
    expect(await kv.expire(k, 60_000)).toBe(true);
    expect(await kv.ttl(k)).toBeGreaterThan(0);
    expect(await kv.ttl(key("none"))).toBe(-2);
    expect(await kv.delete(k)).toBe(1);
    expect(await kv.exists(k)).toBe(false);
  });

  it("hashes", async () => {
    const h = key("h");
    expect(await kv.hSet(h, { a: 1, b: { nested: true } })).toBe(2);
    expect(await kv.hSet(h, "c", null)).toBe(1);
    expect(await kv.hGet(h, "b")).toEqual({ nested: true });
    expect(await kv.hGet(h, "c")).toBeNull();
    expect(await kv.hGet(h, "zzz")).toBeUndefined();
    expect(await kv.hIncrBy(h, "a", 4)).toBe(5);
    expect(await kv.hGetAll(h)).toEqual({ a: 5, b: { nested: true }, c: null });
    expect(await kv.hDel(h, ["a", "b", "c"])).toBe(3);
    expect(await kv.hGetAll(h)).toEqual({});
  });

  it("batches and listings", async () => {
    const p = key("batch");
    await kv.mSet({ [`${p}:1`]: 1, [`${p}:2`]: "two" });
    expect(await kv.mGet([`${p}:1`, `${p}:2`, `${p}:3`])).toEqual({ [`${p}:1`]: 1, [`${p}:2`]: "two" });
    const first = await kv.keys({ pattern: `${p}:*`, limit: 1 });
    expect(first.keys).toEqual([`${p}:1`]);
    const second = await kv.keys({ pattern: `${p}:*`, limit: 1, cursor: first.cursor });
    expect(second).toEqual({ keys: [`${p}:2`], cursor: null });
  });

  it("reports health", async () => {
    await expect(kv.ping()).resolves.toBeUndefined();
  });
});

describe("errors arrive as typed KvError subclasses", () => {
  it("by code", async () => {
    const s = key("str");
    await kv.set(s, "not a number");
    await expect(kv.incr(s)).rejects.toBeInstanceOf(NotIntegerError);
    await expect(kv.hGet(s, "f")).rejects.toBeInstanceOf(WrongTypeError);
    const wrong = createClient({ url: server.url, token: "wrong-token" });
    const error = await wrong.get(s).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(String((error as Error).message)).not.toContain("wrong-token");
    const reader = createClient({ url: server.url, token: READONLY_TOKEN });
    expect(await reader.get(s)).toBe("not a number");
    await expect(reader.set(s, 1)).rejects.toBeInstanceOf(ForbiddenError);
  });
});

describe("locks", () => {
  it("unlock by a client that does not hold the lock changes nothing", async () => {
    const name = key("lock");
    const holder = createClient({ url: server.url, token: FULL_TOKEN });
    const other = createClient({ url: server.url, token: FULL_TOKEN });
    expect(await holder.lock(name, 60_000)).toBe(true);
    expect(await other.lock(name, 60_000)).toBe(false);
    expect(other.holdsLock(name)).toBe(false);
    expect(await other.unlock(name)).toBe(false);
    expect(await other.unlockWithToken(name, "0".repeat(32))).toBe(false);
    expect(await other.extend(name, 60_000)).toBe(false);
    expect(await other.lock(name, 60_000)).toBe(false);
    expect(await holder.unlock(name)).toBe(true);
    expect(await other.lock(name, 60_000)).toBe(true);
    expect(await holder.unlock(name)).toBe(false);
    expect(await other.unlock(name)).toBe(true);
  });

  it("withLock extends the lock while the work runs and releases it afterwards", async () => {
    const name = key("work");
    let extends_ = 0;
    let extended: () => void = () => {};
    const twice = new Promise<void>((resolve) => {
      extended = resolve;
    });
    const spy: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (
        String(input).endsWith("/extend") &&
        (await response.clone().json()).result === true &&
        ++extends_ >= 2
      ) {
        extended();
      }
      return response;
    };
    const worker = createClient({ url: server.url, token: FULL_TOKEN, fetch: spy });
    const other = createClient({ url: server.url, token: FULL_TOKEN });
    const result = await worker.withLock(
      name,
      60_000,
      async (signal) => {
        await twice;
        expect(signal.aborted).toBe(false);
        expect(await other.lock(name, 1_000)).toBe(false);
        return "done";
      },
      { extendEveryMs: 5 },
    );
    expect(result).toBe("done");
    expect(extends_).toBeGreaterThanOrEqual(2);
    expect(await other.lock(name, 1_000)).toBe(true);
  });

  it("withLock releases the lock when the work throws, and fails fast when it is taken", async () => {
    const name = key("work");
    await expect(
      kv.withLock(name, 60_000, async () => {
        throw new Error("work failed");
      }),
    ).rejects.toThrow("work failed");
    const other = createClient({ url: server.url, token: FULL_TOKEN });
    expect(await other.lock(name, 60_000)).toBe(true);
    let ran = false;
    await expect(
      kv.withLock(name, 60_000, async () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(LockBusyError);
    expect(ran).toBe(false);
  });
});

describe("against a server on a fake clock", () => {
  const clock = fakeClock();
  let fake: RunningServer;
  let fdb: TempSqlite;
  beforeAll(async () => {
    fdb = tempSqlite();
    // L1 off: its entries age on the real clock, while this suite moves the database's.
    fake = await startKvServer({
      store: openPrismaStore({ url: fdb.url, clock }),
      env: { KV_L1_TTL_MS: "0" },
    });
  });
  afterAll(async () => {
    await fake?.close();
    fdb?.remove();
  });

  it("setEx keys expire at their TTL", async () => {
    const c = createClient({ url: fake.url, token: FULL_TOKEN });
    await c.setEx("session", { id: 1 }, 30 * 60_000);
    clock.advance(30 * 60_000 - 1);
    expect(await c.get("session")).toEqual({ id: 1 });
    clock.advance(1);
    expect(await c.get("session")).toBeUndefined();
  });

  it("a client whose lock expired cannot release the next holder's lock", async () => {
    const first = createClient({ url: fake.url, token: FULL_TOKEN });
    const second = createClient({ url: fake.url, token: FULL_TOKEN });
    expect(await first.lock("job", 1_000)).toBe(true);
    clock.advance(1_000);
    expect(await second.lock("job", 60_000)).toBe(true);
    expect(await first.unlock("job")).toBe(false);
    expect(first.holdsLock("job")).toBe(false);
    expect(await first.lock("job", 60_000)).toBe(false);
    expect(await second.unlock("job")).toBe(true);
  });
});
