import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import { dropPgSchema, type FreshDatabase, freshPgUrl, PG_URL, sqlDatabases } from "../helpers/databases.ts";
import { FULL_TOKEN, startKvServer, uniqueId } from "../helpers/harness.ts";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.ts";

// @upstash/ratelimit, unchanged, through @upstash/redis against tierkv: every algorithm runs
// as Lua scripts (EVALSHA, falling back to EVAL on NOSCRIPT). Windows are long, so that no test
// straddles two of them.

const WINDOW = "100000 s";

describe.each(sqlDatabases("ratelimit"))("@upstash/ratelimit against tierkv on %s", (_, open) => {
  let db: FreshDatabase;
  let server: RunningServer;
  let redis: Redis;

  beforeAll(async () => {
    db = open();
    server = await startKvServer({ env: { DATABASE_URL: db.url } });
    redis = new Redis({ url: `${server.url}/api/redis`, token: FULL_TOKEN });
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const limiter = (algorithm: ConstructorParameters<typeof Ratelimit>[0]["limiter"], cache = false) =>
    new Ratelimit({
      redis,
      limiter: algorithm,
      prefix: `rl:${uniqueId()}`,
      ephemeralCache: cache ? new Map() : false,
    });

  /** `limit()` n times for one identifier: whether each passed, and the remaining it said. */
  const hits = async (rl: Ratelimit, n: number, id = "user") => {
    const out: [boolean, number][] = [];
    for (let i = 0; i < n; i++) {
      const { success, remaining, limit, pending } = await rl.limit(id);
      // cachedFixedWindow answers from its cache and updates the database in the background.
      await pending;
      expect(limit).toBe(3);
      out.push([success, remaining]);
    }
    return out;
  };

  it("fixedWindow: allows the limit, then denies; getRemaining and resetUsedTokens", async () => {
    const rl = limiter(Ratelimit.fixedWindow(3, WINDOW));
    expect(await hits(rl, 5)).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
      [false, 0],
    ]);
    expect((await rl.getRemaining("user")).remaining).toBe(0);
    expect((await rl.getRemaining("other")).remaining).toBe(3);
    await rl.resetUsedTokens("user");
    expect((await rl.getRemaining("user")).remaining).toBe(3);
    expect((await rl.limit("user")).success).toBe(true);
  });

  it("slidingWindow: allows the limit, then denies; getRemaining and resetUsedTokens", async () => {
    const rl = limiter(Ratelimit.slidingWindow(3, WINDOW));
    expect(await hits(rl, 4)).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect((await rl.getRemaining("user")).remaining).toBe(0);
    await rl.resetUsedTokens("user");
    expect((await rl.getRemaining("user")).remaining).toBe(3);
    expect((await rl.limit("user")).remaining).toBe(2);
  });

  it("tokenBucket: spends the bucket, then denies; getRemaining and resetUsedTokens", async () => {
    const rl = limiter(Ratelimit.tokenBucket(1, WINDOW, 3));
    expect(await hits(rl, 4)).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect((await rl.getRemaining("user")).remaining).toBe(0);
    await rl.resetUsedTokens("user");
    expect((await rl.getRemaining("user")).remaining).toBe(3);
    const { success, reset } = await rl.limit("user");
    expect(success).toBe(true);
    expect(reset).toBeGreaterThan(Date.now());
  });

  it("cachedFixedWindow: counts in the database behind its local cache", async () => {
    const rl = limiter(Ratelimit.cachedFixedWindow(3, WINDOW), true);
    const passed = (await hits(rl, 5)).map(([success]) => success);
    expect(passed).toEqual([true, true, true, false, false]);
    expect((await rl.getRemaining("user")).remaining).toBe(0);
    await rl.resetUsedTokens("user");
    expect((await rl.getRemaining("user")).remaining).toBe(3);
  });

  it("keeps identifiers apart, and honours a rate of more than one token", async () => {
    const rl = limiter(Ratelimit.fixedWindow(3, WINDOW));
    expect((await rl.limit("a", { rate: 2 })).remaining).toBe(1);
    expect((await rl.limit("a", { rate: 2 })).success).toBe(false);
    expect((await rl.limit("b")).remaining).toBe(2);
  });

  it("finds its scripts after the script cache is flushed (EVALSHA, NOSCRIPT, then EVAL)", async () => {
    const rl = limiter(Ratelimit.slidingWindow(3, WINDOW));
    expect((await rl.limit("user")).success).toBe(true);
    expect(await redis.scriptFlush()).toBe("OK");
    expect((await rl.limit("user")).remaining).toBe(1);
  });
});

describe.skipIf(PG_URL === null)("@upstash/ratelimit across two instances on one PostgreSQL", () => {
  const url = PG_URL === null ? "" : freshPgUrl("ratelimit2");
  let servers: ServerProcess[] = [];

  beforeAll(async () => {
    servers = await Promise.all([
      startServerProcess({ DATABASE_URL: url, KV_TOKEN: FULL_TOKEN }),
      startServerProcess({ DATABASE_URL: url, KV_TOKEN: FULL_TOKEN }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await dropPgSchema(url);
  });

  it.each([
    ["fixedWindow", Ratelimit.fixedWindow(50, WINDOW)],
    ["slidingWindow", Ratelimit.slidingWindow(50, WINDOW)],
    ["tokenBucket", Ratelimit.tokenBucket(1, WINDOW, 50)],
  ])(
    "%s: 200 concurrent calls for one identifier allow exactly 50",
    async (_, algorithm) => {
      const prefix = `rl2:${uniqueId()}`;
      const limiters = servers.map(
        (server) =>
          new Ratelimit({
            redis: new Redis({ url: `${server.url}/api/redis`, token: FULL_TOKEN }),
            limiter: algorithm,
            prefix,
            ephemeralCache: false,
          }),
      );
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (limiters[i % 2] as Ratelimit).limit("hot")),
      );
      expect(results.filter((r) => r.success)).toHaveLength(50);
    },
    60_000,
  );
});
