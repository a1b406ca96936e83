import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRuntime } from "../../src/adapters/vercel.ts";
import { createApp } from "../../src/http/app.ts";
import { call, expectError, expectResult, type Harness, sqliteHarness } from "../helpers/harness.ts";

describe("input at the edges of JSON and of the query string", () => {
  let h: Harness;

  beforeAll(() => {
    h = sqliteHarness();
  });

  afterAll(async () => {
    await h.close();
  });

  it("names the field and what it must be when a field has the wrong type", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ key: 1, value: 1 }, /^key must be a string$/],
      [{ key: "k", value: 1, nx: "yes" }, /^nx must be true or false$/],
      [{ key: "k", value: 1, ttlMs: 1.5 }, /^ttlMs must be an integer$/],
      [{ key: "k", value: 1, ttlMs: "1000" }, /^ttlMs must be a number$/],
      [{ key: "k", value: 1, ttlMs: 0 }, /^ttlMs must be at least 1$/],
      [{ key: "k" }, /^value is required$/],
    ];
    for (const [body, message] of cases) {
      const reply = await call(h.app, "POST", "set", { body });
      expectError(reply, 400, "BAD_REQUEST");
      expect((reply.body as { error: { message: string } }).error.message).toMatch(message);
    }
    const mget = await call(h.app, "POST", "mget", { body: { keys: "a" } });
    expectError(mget, 400, "BAD_REQUEST");
    expect((mget.body as { error: { message: string } }).error.message).toBe("keys must be an array");
  });

  it("refuses a number too large for a double instead of storing null", async () => {
    for (const raw of ['{"key":"inf","value":1e400}', `{"key":"inf","value":[1${"0".repeat(400)}]}`]) {
      expectError(await call(h.app, "POST", "set", { raw }), 400, "BAD_REQUEST", ["value"]);
    }
    expectError(await call(h.app, "GET", "get", { query: { key: "inf" } }), 404, "NOT_FOUND");
    expectResult(await call(h.app, "POST", "set", { raw: '{"key":"big","value":1e300}' }), true);
  });

  it("stores wide values holding large but finite numbers", async () => {
    const wide = `[${"0,".repeat(200_000)}1e100]`;
    expectResult(await call(h.app, "POST", "set", { raw: `{"key":"wide","value":${wide}}` }), true);
    const many = `{${Array.from({ length: 80_000 }, (_, i) => `"k${i}":0`).join(",")},"big":1e300}`;
    expectResult(await call(h.app, "POST", "set", { raw: `{"key":"many","value":${many}}` }), true);
  });

  it("stores deep values, and refuses nesting past 1000 levels with a 400", async () => {
    const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    expectResult(await call(h.app, "POST", "set", { raw: `{"key":"deep","value":${nested(900)}}` }), true);
    expectError(
      await call(h.app, "POST", "set", { raw: `{"key":"deeper","value":${nested(5000)}}` }),
      400,
      "BAD_REQUEST",
    );
    expectError(await call(h.app, "GET", "get", { query: { key: "deeper" } }), 404, "NOT_FOUND");
  });

  it("refuses query parameters on an endpoint that reads a JSON body", async () => {
    expectError(
      await call(h.app, "POST", "set?foo=1", { body: { key: "q", value: 1 } }),
      400,
      "BAD_REQUEST",
      ["foo"],
    );
  });

  it("lets a health probe add query parameters", async () => {
    expectResult(await call(h.app, "GET", "health", { token: null, query: { probe: "1" } }), {
      status: "ok",
      db: "sqlite",
    });
  });

  it("answers 503, not 400 or 500, when a serverless instance is misconfigured", async () => {
    for (const env of [{ DATABASE_URL: "mysql://db.example/kv" }, { KV_L1_TTL_MS: "soon" }]) {
      const app = createApp({
        runtime: () => openRuntime({ KV_TOKEN: "t", ...env }),
      });
      const reply = await call(app, "GET", "get", { query: { key: "k" }, token: "t" });
      expectError(reply, 503, "UNAVAILABLE");
      expect(reply.text).not.toContain("db.example");
    }
  });
});
