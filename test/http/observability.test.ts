import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import { openRuntime } from "../../src/adapters/vercel.ts";
import { loadConfig } from "../../src/core/config.ts";
import { DatabaseTimeoutError, UnavailableError } from "../../src/core/errors.ts";
import { MemoryStore } from "../../src/engine/memory-store.ts";
import { createApp } from "../../src/http/app.ts";
import { fakeClock, freshPgSchema, PG_URL, type TempSqlite, tempSqlite } from "../helpers/databases.ts";
import {
  call,
  expectError,
  expectResult,
  FULL_TOKEN,
  READ_TOKEN,
  sqliteHarness,
  startKvServer,
} from "../helpers/harness.ts";
import { startServerProcess } from "../helpers/server-process.ts";

// What an operator sees of a running instance, over real HTTP: /metrics in Prometheus's text
// format, one JSON log line per request (never a value, a token or a query), and the rate limits.

/** The value of one sample of a Prometheus text page, or undefined when it is absent. */
function sample(page: string, name: string, labels = ""): number | undefined {
  const line = page.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

async function metrics(server: RunningServer, token: string | null = FULL_TOKEN): Promise<Response> {
  return fetch(
    `${server.url}/metrics`,
    token === null ? {} : { headers: { Authorization: `Bearer ${token}` } },
  );
}

describe("GET /metrics", () => {
  let db: TempSqlite;
  let server: RunningServer;

  beforeAll(async () => {
    db = tempSqlite();
    server = await startKvServer({ env: { DATABASE_URL: db.url, KV_READONLY_TOKEN: READ_TOKEN } });
  });
  afterAll(async () => {
    await server?.close();
    db?.remove();
  });

  it("is behind the token, in Prometheus's text format, and answers GET only", async () => {
    const denied = await metrics(server, null);
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    expect((await metrics(server, "wrong")).status).toBe(401);
    for (const token of [FULL_TOKEN, READ_TOKEN]) {
      const res = await metrics(server, token);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const page = await res.text();
      expect(page).toMatch(/^# HELP tierkv_requests_total /);
      // Every sample line is a name, optional labels, and a number.
      for (const line of page.trim().split("\n")) {
        if (!line.startsWith("#")) expect(line).toMatch(/^[a-z_0-9]+(\{[^}]*\})? -?[0-9.e+-]+$/);
      }
    }
    const post = await fetch(`${server.url}/metrics`, {
      method: "POST",
      headers: { Authorization: `Bearer ${FULL_TOKEN}` },
    });
    expect(post.status).toBe(405);
  });

  it("counts requests by endpoint and status, their latency, and L1 hits and misses", async () => {
    const before = await (await metrics(server)).text();
    const hits = sample(before, "tierkv_l1_hits_total") ?? 0;
    const misses = sample(before, "tierkv_l1_misses_total") ?? 0;
    const gets200 = sample(before, "tierkv_requests_total", '{endpoint="get",status="200"}') ?? 0;
    const gets404 = sample(before, "tierkv_requests_total", '{endpoint="get",status="404"}') ?? 0;

    expectResult(await call(server.url, "POST", "set", { body: { key: "m:1", value: 1 } }), true);
    await call(server.url, "GET", "get", { query: { key: "m:1" }, headers: { "Cache-Control": "no-cache" } });
    await call(server.url, "GET", "get", { query: { key: "m:1" } });
    await call(server.url, "GET", "get", { query: { key: "m:1" } });
    expectError(await call(server.url, "GET", "get", { query: { key: "m:none" } }), 404, "NOT_FOUND");
    // Paths nobody serves count under one label, however many there are.
    for (let i = 0; i < 5; i++) await call(server.url, "GET", `/api/kv/nope-${i}`);

    const page = await (await metrics(server)).text();
    expect(sample(page, "tierkv_requests_total", '{endpoint="get",status="200"}')).toBe(gets200 + 3);
    expect(sample(page, "tierkv_requests_total", '{endpoint="get",status="404"}')).toBe(gets404 + 1);
    expect(sample(page, "tierkv_requests_total", '{endpoint="other",status="404"}')).toBeGreaterThanOrEqual(
      5,
    );
    expect(page).not.toContain("nope-");
    // The write kept m:1 in L1: both plain reads were hits; the miss was m:none.
    expect(sample(page, "tierkv_l1_hits_total")).toBe(hits + 2);
    expect(sample(page, "tierkv_l1_misses_total")).toBe(misses + 1);
    expect(sample(page, "tierkv_l1_entries")).toBeGreaterThanOrEqual(1);
    const count = sample(page, "tierkv_request_duration_seconds_count", '{endpoint="get"}') ?? 0;
    expect(count).toBeGreaterThanOrEqual(4);
    expect(sample(page, "tierkv_request_duration_seconds_bucket", '{endpoint="get",le="+Inf"}')).toBe(count);
    expect(sample(page, "tierkv_request_duration_seconds_bucket", '{endpoint="get",le="10"}')).toBe(count);
    expect(sample(page, "process_resident_memory_bytes")).toBeGreaterThan(0);
    // The write and the two reads that missed L1 went to the database.
    const trips = sample(page, "tierkv_database_round_trips_total") ?? 0;
    expect(trips - (sample(before, "tierkv_database_round_trips_total") ?? 0)).toBeGreaterThanOrEqual(3);
    expect(sample(page, "tierkv_database_round_trip_seconds_total")).toBeGreaterThan(0);
  });

  it("counts the sweep's runs and the rows it deleted", async () => {
    await call(server.url, "POST", "set", { body: { key: "m:gone", value: 1, ttlMs: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = sample(await (await metrics(server)).text(), "tierkv_swept_rows_total") ?? 0;
    const removed = await server.runtime.engine.sweep();
    expect(removed).toBeGreaterThanOrEqual(1);
    const page = await (await metrics(server)).text();
    expect(sample(page, "tierkv_swept_rows_total")).toBe(before + removed);
    expect(sample(page, "tierkv_sweeps_total")).toBeGreaterThanOrEqual(1);
  });
});

/** A store that fails the way a database does: unreachable, or too slow to answer. */
class FailingStore extends MemoryStore {
  failure: Error | undefined;
  pingFailure: Error | undefined;
  override async ping(): Promise<void> {
    if (this.pingFailure !== undefined) throw this.pingFailure;
  }
  override async inspect(...args: Parameters<MemoryStore["inspect"]>) {
    if (this.failure !== undefined) throw this.failure;
    return super.inspect(...args);
  }
}

describe("database failures in /metrics", () => {
  it("counts unreachable and timed-out answers apart", async () => {
    const store = new FailingStore();
    const server = await startKvServer({ store, env: { KV_L1_TTL_MS: "0" } });
    try {
      store.failure = new UnavailableError();
      expectError(await call(server.url, "GET", "get", { query: { key: "a" } }), 503, "UNAVAILABLE");
      store.failure = new DatabaseTimeoutError();
      for (let i = 0; i < 2; i++) {
        expectError(await call(server.url, "GET", "get", { query: { key: "a" } }), 503, "UNAVAILABLE", [
          "may or may not",
        ]);
      }
      const page = await (await metrics(server)).text();
      expect(sample(page, "tierkv_database_errors_total", '{kind="unavailable"}')).toBe(1);
      expect(sample(page, "tierkv_database_errors_total", '{kind="timeout"}')).toBe(2);
      expect(sample(page, "tierkv_requests_total", '{endpoint="get",status="503"}')).toBe(3);
    } finally {
      await server.close();
    }
  });

  it.runIf(PG_URL !== null)("shows the PostgreSQL pool's connections", async () => {
    const schema = freshPgSchema("metrics_pool");
    const server = await startKvServer({ env: { DATABASE_URL: schema.url } });
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          call(server.url, "POST", "set", { body: { key: `p:${i}`, value: i } }),
        ),
      );
      const page = await (await metrics(server)).text();
      const open = sample(page, "tierkv_database_pool_connections", '{state="open"}') ?? 0;
      expect(open).toBeGreaterThanOrEqual(1);
      expect(open).toBeLessThanOrEqual(10);
      expect(sample(page, "tierkv_database_pool_connections", '{state="idle"}')).toBeLessThanOrEqual(open);
      expect(sample(page, "tierkv_database_pool_waiting")).toBe(0);
    } finally {
      await server.close();
      await schema.drop();
    }
  });
});

describe("liveness and readiness", () => {
  it("/livez answers while the database is down; /api/kv/health answers 503 then", async () => {
    const store = new FailingStore();
    const server = await startKvServer({ store });
    try {
      const live = async () => {
        const res = await fetch(`${server.url}/livez`);
        return { status: res.status, body: await res.json() };
      };
      expect(await live()).toEqual({ status: 200, body: { result: { status: "up" } } });
      expect((await fetch(`${server.url}/api/kv/health`)).status).toBe(200);
      store.pingFailure = new UnavailableError();
      expect(await live()).toEqual({ status: 200, body: { result: { status: "up" } } });
      const health = await fetch(`${server.url}/api/kv/health`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { error: { code: string } }).error.code).toBe("UNAVAILABLE");
      expect((await fetch(`${server.url}/livez`, { method: "POST" })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});

describe("a misconfigured instance", () => {
  it("is still up (/livez) and still documents its API, while every other path answers 503", async () => {
    const app = createApp({
      runtime: () => openRuntime({ KV_TOKEN: "t", DATABASE_URL: "mysql://db.example/kv" }),
    });
    expect((await call(app, "GET", "/livez", { token: null })).body).toEqual({ result: { status: "up" } });
    expect((await call(app, "GET", "/api/kv/openapi.json", { token: null })).status).toBe(200);
    expectError(await call(app, "GET", "get", { query: { key: "k" }, token: "t" }), 503, "UNAVAILABLE");
  });
});

describe("request logs", () => {
  it("writes one JSON line per request, without values, tokens, paths or query strings", async () => {
    const db = tempSqlite();
    const server = await startServerProcess({
      DATABASE_URL: db.url,
      KV_TOKEN: FULL_TOKEN,
      KV_LOG_LEVEL: "debug",
    });
    try {
      const value = "s3cret-value-0451";
      expectResult(await call(server.url, "POST", "set", { body: { key: "user:alice", value } }), true);
      await call(server.url, "GET", "get", { query: { key: "user:alice" } });
      await call(server.url, "GET", "get", { query: { key: "user:bob" } });
      await call(server.url, "GET", "get", { query: { key: "x" }, token: "wrong-token-9" });
      // A path no endpoint serves may carry data (a path-style command): only "other" is logged.
      await call(server.url, "POST", "/api/redis/set/user:carol/s3cret-in-path");
      await new Promise((resolve) => setTimeout(resolve, 200));
      const lines = server
        .output()
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const requests = lines.filter((line) => line.msg === "request");
      expect(requests.map((r) => [r.method, r.endpoint, r.status, r.cache])).toEqual([
        ["POST", "set", 200, undefined],
        ["GET", "get", 200, "HIT"],
        ["GET", "get", 404, "MISS"],
        ["GET", "get", 401, undefined],
        ["POST", "other", 404, undefined],
      ]);
      for (const r of requests) {
        expect(r.level).toBe(20);
        expect(typeof r.time).toBe("number");
        expect(r.ms).toBeGreaterThanOrEqual(0);
      }
      const text = server.output();
      for (const secret of [value, FULL_TOKEN, "wrong-token-9", "alice", "bob", "carol", "s3cret-in-path"]) {
        expect(text).not.toContain(secret);
      }
    } finally {
      await server.stop();
      db.remove();
    }
  });

  it("leaves requests out at the default level, and refuses an unknown level", async () => {
    const db = tempSqlite();
    const server = await startServerProcess({ DATABASE_URL: db.url, KV_TOKEN: FULL_TOKEN });
    try {
      await call(server.url, "GET", "get", { query: { key: "k" } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(server.output()).toContain("listening on");
      expect(server.output()).not.toContain('"msg":"request"');
    } finally {
      await server.stop();
      db.remove();
    }
    expect(() => loadConfig({ KV_LOG_LEVEL: "loud" })).toThrow(/KV_LOG_LEVEL must be one of/);
  });
});

describe("rate limits (off by default)", () => {
  it("answers 429 with Retry-After past a token's rate, and lets it through once the bucket refills", async () => {
    const clock = fakeClock();
    const h = sqliteHarness({ clock, env: { KV_RATE_LIMIT_PER_TOKEN: "3" } });
    try {
      for (let i = 0; i < 3; i++)
        expectResult(await call(h.app, "POST", "set", { body: { key: "k", value: i } }), true);
      const limited = await call(h.app, "POST", "set", { body: { key: "k", value: 99 } });
      expectError(limited, 429, "RATE_LIMITED", ["this token"]);
      expect(limited.headers.get("Retry-After")).toBe("1");
      expectError(await call(h.app, "GET", "get", { query: { key: "k" } }), 429, "RATE_LIMITED");
      // A second later the bucket holds three requests again; the refused write changed nothing.
      clock.advance(1_000);
      expectResult(await call(h.app, "GET", "get", { query: { key: "k" } }), 2);
    } finally {
      await h.close();
    }
  });

  it("keeps the full and the read-only token apart, and the Redis protocol answers in its own form", async () => {
    const clock = fakeClock();
    const h = sqliteHarness({ clock, env: { KV_RATE_LIMIT_PER_TOKEN: "2" } });
    try {
      for (let i = 0; i < 2; i++)
        expect((await call(h.app, "POST", "/api/redis", { body: ["PING"] })).status).toBe(200);
      const redis = await call(h.app, "POST", "/api/redis", { body: ["PING"] });
      expect(redis.status).toBe(429);
      expect(redis.body).toEqual({ error: expect.stringMatching(/^ERR too many requests/) });
      expect(redis.headers.get("Retry-After")).toBe("1");
      // The read-only token has a bucket of its own.
      expectError(
        await call(h.app, "GET", "get", { query: { key: "a" }, token: READ_TOKEN }),
        404,
        "NOT_FOUND",
      );
      clock.advance(500);
      expect((await call(h.app, "POST", "/api/redis", { body: ["PING"] })).status).toBe(200);
      expect((await call(h.app, "POST", "/api/redis", { body: ["PING"] })).status).toBe(429);
      // Health needs no token and is never limited.
      for (let i = 0; i < 5; i++)
        expect((await call(h.app, "GET", "health", { token: null })).status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it("limits each client address, wrong tokens included, and counts refusals in /metrics", async () => {
    const db = tempSqlite();
    const server = await startKvServer({ env: { DATABASE_URL: db.url, KV_RATE_LIMIT_PER_ADDRESS: "4" } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const token = i % 2 === 0 ? "guess" : FULL_TOKEN;
        statuses.push((await call(server.url, "GET", "get", { query: { key: "a" }, token })).status);
      }
      expect(statuses).toEqual([401, 404, 401, 404, 429, 429]);
      await new Promise((resolve) => setTimeout(resolve, 600));
      const page = await (await metrics(server)).text();
      expect(sample(page, "tierkv_rate_limited_total")).toBe(2);
    } finally {
      await server.close();
      db.remove();
    }
  });

  it("off unless configured, and refuses settings that are not whole numbers", async () => {
    const h = sqliteHarness();
    try {
      for (let i = 0; i < 50; i++)
        expect((await call(h.app, "GET", "exists", { query: { key: "a" } })).status).toBe(200);
    } finally {
      await h.close();
    }
    expect(() => loadConfig({ KV_RATE_LIMIT_PER_TOKEN: "10/s" })).toThrow(/KV_RATE_LIMIT_PER_TOKEN/);
  });
});
