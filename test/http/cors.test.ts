import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import { loadConfig } from "../../src/core/config.ts";
import { type TempSqlite, tempSqlite } from "../helpers/databases.ts";
import { FULL_TOKEN, startKvServer } from "../helpers/harness.ts";

// CORS over real HTTP: off unless KV_CORS_ORIGINS names origins; then a browser on one of them
// may call both protocols (the Redis protocol's clients send their own headers and read the
// sync token), and a browser anywhere else gets no permission.

const APP = "https://app.example.com";

describe("CORS", () => {
  let db: TempSqlite;
  let open: RunningServer;
  let closed: RunningServer;

  beforeAll(async () => {
    db = tempSqlite();
    open = await startKvServer({
      env: { DATABASE_URL: db.url, KV_CORS_ORIGINS: `${APP}, https://admin.example.com` },
    });
    closed = await startKvServer({ env: { DATABASE_URL: db.url } });
  });
  afterAll(async () => {
    await open?.close();
    await closed?.close();
    db?.remove();
  });

  const preflight = (server: RunningServer, origin: string, path = "/api/redis") =>
    fetch(`${server.url}${path}`, {
      method: "OPTIONS",
      headers: {
        Origin: origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,upstash-encoding,upstash-sync-token",
      },
    });

  it("answers a listed origin's preflight without a token, allowing the clients' headers", async () => {
    for (const path of ["/api/redis", "/api/redis/pipeline", "/api/kv/set"]) {
      const reply = await preflight(open, APP, path);
      expect(reply.status).toBe(204);
      expect(reply.headers.get("access-control-allow-origin")).toBe(APP);
      const allowed = reply.headers.get("access-control-allow-headers")?.toLowerCase() ?? "";
      for (const header of ["authorization", "content-type", "upstash-encoding", "upstash-sync-token"])
        expect(allowed).toContain(header);
      expect(reply.headers.get("access-control-allow-methods")).toContain("POST");
    }
  });

  it("lets a listed origin read answers and the sync token", async () => {
    const reply = await fetch(`${open.url}/api/redis`, {
      method: "POST",
      headers: { Origin: APP, Authorization: `Bearer ${FULL_TOKEN}` },
      body: JSON.stringify(["SET", "cors:k", "v"]),
    });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ result: "OK" });
    expect(reply.headers.get("access-control-allow-origin")).toBe(APP);
    expect(reply.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("upstash-sync-token");
    expect(reply.headers.get("vary")).toContain("Origin");
  });

  it("gives any other origin no permission, and still asks it for a token", async () => {
    const reply = await preflight(open, "https://evil.example.com");
    expect(reply.headers.get("access-control-allow-origin")).toBeNull();
    const call = await fetch(`${open.url}/api/kv/get?key=cors:k`, {
      headers: { Origin: "https://evil.example.com" },
    });
    expect(call.status).toBe(401);
    expect(call.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("is off without KV_CORS_ORIGINS", async () => {
    const reply = await preflight(closed, APP);
    expect(reply.headers.get("access-control-allow-origin")).toBeNull();
    expect(reply.status).toBe(401);
  });

  it("refuses a KV_CORS_ORIGINS that is not * or a list of origins", () => {
    expect(loadConfig({ KV_CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
    expect(() => loadConfig({ KV_CORS_ORIGINS: "app.example.com" })).toThrow(/KV_CORS_ORIGINS/);
    expect(() => loadConfig({ KV_CORS_ORIGINS: "https://app.example.com/path" })).toThrow(/KV_CORS_ORIGINS/);
  });
});
