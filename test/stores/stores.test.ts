import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { BadRequestError } from "../../src/core/errors.ts";
import { MemoryStore } from "../../src/engine/memory-store.ts";
import { openPrismaStore } from "../../src/engine/sql/open.ts";
import { createDatabaseStore } from "../../src/stores/database.ts";
import { createHttpStore } from "../../src/stores/http.ts";
import { createStore, RedisStore } from "../../src/stores/index.ts";
import { createMemoryStore } from "../../src/stores/memory.ts";
import { fakeClock, freshPgSchema, hasRedis, PG_URL, REDIS_URL, tempSqlite } from "../helpers/databases.ts";
import { FULL_TOKEN, startKvServer, uniqueId } from "../helpers/harness.ts";
import { describeStoreContract } from "./contract.ts";

const postgres = PG_URL !== null;
const redis = await hasRedis();

describeStoreContract("memory", async () => {
  const clock = fakeClock();
  const shared = new MemoryStore({ clock });
  return {
    open: (keyPrefix) => createMemoryStore({ store: shared, keyPrefix }),
    advance: clock.advance,
    close: () => shared.close(),
  };
});

describeStoreContract("embedded SQLite file", async () => {
  const clock = fakeClock();
  const db = tempSqlite();
  const shared = openPrismaStore({ url: db.url, clock });
  return {
    open: (keyPrefix) => createDatabaseStore({ store: shared, keyPrefix }),
    advance: clock.advance,
    close: async () => {
      await shared.close();
      db.remove();
    },
  };
});

describeStoreContract(
  "embedded PostgreSQL",
  async () => {
    const clock = fakeClock();
    const schema = freshPgSchema("stores");
    const shared = openPrismaStore({ url: schema.url, clock });
    return {
      open: (keyPrefix) => createDatabaseStore({ store: shared, keyPrefix }),
      advance: clock.advance,
      close: async () => {
        await shared.close();
        await schema.drop();
      },
    };
  },
  !postgres,
);

describeStoreContract(
  "Redis",
  async () => {
    const client = new Redis(REDIS_URL);
    return {
      // Every test's namespace is unique, and the contract clears it afterwards.
      open: (keyPrefix) => new RedisStore({ client, keyPrefix: `tierkv-sdk-test:${keyPrefix}` }),
      close: async () => void client.disconnect(),
    };
  },
  !redis,
);

describeStoreContract("HTTP client against a real server", async () => {
  const clock = fakeClock();
  const db = tempSqlite();
  // L1 off: the server's L1 runs on its own clock, and this suite moves the database's.
  const server = await startKvServer({
    store: openPrismaStore({ url: db.url, clock }),
    env: { KV_L1_TTL_MS: "0" },
  });
  return {
    open: (keyPrefix) => createHttpStore({ url: server.url, token: FULL_TOKEN, keyPrefix }),
    advance: clock.advance,
    close: async () => {
      await server.close();
      db.remove();
    },
  };
});

describe("createStore", () => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it("opens the embedded SQLite store a file: URL names, with no server", async () => {
    const db = tempSqlite();
    const store = createStore({ url: db.url, keyPrefix: "app:" });
    cleanups.push(db.remove);
    await store.set("k", { ok: true });
    expect(await store.get("k")).toEqual({ ok: true });
    await store.close();
    const reopened = createStore({ url: db.url, keyPrefix: "app:" });
    expect(await reopened.get("k")).toEqual({ ok: true });
    expect(reopened.name).toBe("sqlite");
    await reopened.close();
  });

  it.skipIf(!redis)("opens a RedisStore for a redis:// URL", async () => {
    const store = createStore({ url: REDIS_URL, keyPrefix: `tierkv-sdk-test:${uniqueId()}:` });
    await store.set("k", 1);
    expect(store.name).toBe("redis");
    expect(await store.get("k")).toBe(1);
    await store.clear();
    await store.close();
  });

  it("rejects an unknown scheme without repeating the URL", () => {
    const attempt = () => createStore({ url: "mysql://user:hunter2@db/kv" });
    expect(attempt).toThrow(BadRequestError);
    expect(attempt).not.toThrow(/hunter2/);
  });
});

describe.skipIf(!redis)("RedisStore specifics", () => {
  it("gives keys their TTL in Redis, and none for 0", async () => {
    const client = new Redis(REDIS_URL);
    const prefix = `tierkv-sdk-test:${uniqueId()}:`;
    const store = new RedisStore({ client, keyPrefix: prefix });
    await store.set("short", 1, 5_000);
    await store.set("forever", 1, 0);
    await store.setMany(new Map([["batch", 1]]), 7_000);
    const short = await client.pttl(`${prefix}short`);
    expect(short).toBeGreaterThan(0);
    expect(short).toBeLessThanOrEqual(5_000);
    expect(await client.pttl(`${prefix}batch`)).toBeGreaterThan(5_000);
    expect(await client.pttl(`${prefix}forever`)).toBe(-1);
    await store.clear();
    client.disconnect();
  });

  it("reports a command Redis refuses as a bad request, not as an outage", async () => {
    const store = new RedisStore({ url: REDIS_URL, keyPrefix: `tierkv-sdk-test:${uniqueId()}:` });
    await expect(store.lock("job", 0)).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await store.close();
  });

  it("reads a non-JSON value written by another program as a string", async () => {
    const client = new Redis(REDIS_URL);
    const prefix = `tierkv-sdk-test:${uniqueId()}:`;
    const store = new RedisStore({ client, keyPrefix: prefix });
    await client.set(`${prefix}raw`, "hello world");
    expect(await store.get("raw")).toBe("hello world");
    await store.clear();
    client.disconnect();
  });
});
