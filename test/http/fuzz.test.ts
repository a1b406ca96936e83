import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENDPOINT_NAMES } from "../../src/core/api.ts";
import { WIRE_CODES } from "../../src/core/errors.ts";
import { FULL_TOKEN, type Harness, READ_TOKEN, sqliteHarness } from "../helpers/harness.ts";

// Property-based input tests (fast-check): random and adversarial methods, paths, query strings,
// bodies, headers and tokens, on both protocols. Whatever arrives: never a 5xx, every answer
// carries Cache-Control: no-store and an error in its protocol's form, and a rejected request
// changes nothing (checked against sentinel keys that the generators aim at too). A failure
// prints the seed and the shrunk request.

const SENTINELS = ["fz:s", "fz:h", "fz:n"];
const RUNS = Number(process.env.TIERKV_FUZZ_RUNS ?? 1000);

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "%",
    "%zz",
    "%00",
    "\u0000",
    "\ud800",
    "..",
    "*",
    "?",
    "[a-",
    "\\",
    "🙂",
    "𝄞".repeat(70),
  ),
);
const key = fc.oneof(fc.constantFrom(...SENTINELS), text, fc.constant("k".repeat(300)));
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 2 ** 53, -(2 ** 53), 1e308, 9_007_199_254_740_991, 0.1),
);
const json: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record(
    {
      key,
      value: fc.jsonValue({ maxDepth: 3 }),
      ttlMs: fc.oneof(number, text),
      by: fc.oneof(number, text),
      field: key,
      fields: fc.oneof(fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), fc.array(key)),
      keys: fc.array(key, { maxLength: 4 }),
      pairs: fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      nx: fc.oneof(fc.boolean(), text),
      xx: fc.oneof(fc.boolean(), text),
      token: text,
      pattern: text,
    },
    { requiredKeys: [] },
  ),
);
const body = fc.oneof(
  json.map((value) => JSON.stringify(value)),
  text,
  fc.constantFrom("{", "[", "null", '{"key":"a"', "[1,2", "\u0000", `${"[".repeat(2000)}${"]".repeat(2000)}`),
);
const auth = fc.constantFrom(
  `Bearer ${FULL_TOKEN}`,
  `Bearer ${READ_TOKEN}`,
  "Bearer wrong",
  "Basic x",
  "",
  undefined,
);
const query = fc.array(
  fc.tuple(fc.constantFrom("key", "field", "pattern", "limit", "cursor", "x"), fc.oneof(key, text)),
  {
    maxLength: 3,
  },
);

describe("random and adversarial requests", () => {
  let h: Harness;

  beforeAll(async () => {
    h = sqliteHarness();
    await plant();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Writes the sentinel keys: a string, a hash and a counter. */
  const plant = async () => {
    const { store } = h.runtime.engine;
    for (const k of SENTINELS) await store.delete(k);
    await store.set("fz:s", { sentinel: true });
    await store.hSet("fz:h", { a: 1, b: "two" });
    await store.set("fz:n", 41);
  };

  const sentinels = async () =>
    JSON.stringify(await Promise.all(SENTINELS.map((k) => h.runtime.engine.store.inspect(k, "all"))));

  /** Sends a request; checks what every answer must be; answers whether it was an error. */
  const send = async (request: Request, form: "native" | "redis"): Promise<boolean> => {
    const response = await h.app.request(request);
    expect(response.status, `${request.method} ${request.url}`).toBeLessThan(500);
    expect(response.headers.get("cache-control")).toBe("no-store");
    if (request.method === "HEAD") return response.status >= 400;
    const raw = await response.text();
    if (response.status === 204) return false;
    const answer = JSON.parse(raw) as Record<string, unknown>;
    if (form === "native") {
      if (response.status >= 400) {
        expect(Object.keys(answer)).toEqual(["error"]);
        const error = answer.error as { code: string; message: string };
        expect(WIRE_CODES).toContain(error.code);
        expect(typeof error.message).toBe("string");
      } else expect(Object.keys(answer)).toEqual(["result"]);
    } else {
      const slots = Array.isArray(answer) ? answer : [answer];
      for (const slot of slots as Record<string, unknown>[]) {
        expect(Object.keys(slot).length).toBe(1);
        expect(["result", "error"]).toContain(Object.keys(slot)[0]);
      }
    }
    return response.status >= 400;
  };

  it("native API: no 5xx, the envelope, and no change from a rejected request", async () => {
    const path = fc.oneof(
      fc.constantFrom(...ENDPOINT_NAMES).map((name) => `/api/kv/${name}`),
      text.map((t) => `/api/kv/${encodeURIComponent(t.toWellFormed())}`),
      fc.constantFrom(
        "/api/kv",
        "/api/kv/",
        "/api/kv//get",
        "/api/kv/get/",
        "/api/kv/%2e%2e/get",
        "/",
        "/api",
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"),
        path,
        query,
        body,
        auth,
        fc.constantFrom("application/json", "text/plain", undefined),
        async (method, route, params, payload, authorization, type) => {
          const search = new URLSearchParams(params).toString();
          const headers: Record<string, string> = {};
          if (authorization !== undefined) headers.Authorization = authorization;
          if (type !== undefined) headers["Content-Type"] = type;
          const before = await sentinels();
          const rejected = await send(
            new Request(`http://kv.test${route}${search ? `?${search}` : ""}`, {
              method,
              headers,
              ...(method === "GET" || method === "HEAD" ? {} : { body: payload }),
            }),
            "native",
          );
          if (rejected) expect(await sentinels()).toBe(before);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("Redis protocol: no 5xx, its reply form, and no change from a rejected request", async () => {
    const argument = fc.oneof(
      key,
      text,
      number,
      fc.boolean(),
      fc.constant(null),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const name = fc.oneof(
      fc.constantFrom(
        "GET",
        "SET",
        "INCR",
        "INCRBYFLOAT",
        "HSET",
        "HINCRBY",
        "DEL",
        "EXPIRE",
        "GETRANGE",
        "SETRANGE",
        "APPEND",
        "RENAME",
        "COPY",
        "SCAN",
        "KEYS",
        "MSET",
        "EVAL",
        "EVALSHA",
        "SCRIPT",
        "FLUSHALL",
      ),
      text,
    );
    const line = fc.tuple(name, fc.array(argument, { maxLength: 5 })).map(([n, args]) => [n, ...args]);
    const payload = fc.oneof(
      line.map((l) => ({ path: "/api/redis", body: JSON.stringify(l) })),
      fc
        .array(line, { maxLength: 4 })
        .map((ls) => ({ path: "/api/redis/pipeline", body: JSON.stringify(ls) })),
      fc
        .array(line, { maxLength: 4 })
        .map((ls) => ({ path: "/api/redis/multi-exec", body: JSON.stringify(ls) })),
      body.map((b) => ({ path: "/api/redis", body: b })),
    );
    await fc.assert(
      fc.asyncProperty(payload, auth, async ({ path, body: sent }, authorization) => {
        // FLUSHALL with the full token is a valid request that empties everything: not a rejection.
        const headers: Record<string, string> =
          authorization === undefined ? {} : { Authorization: authorization };
        const before = await sentinels();
        const response = await send(
          new Request(`http://kv.test${path}`, { method: "POST", headers, body: sent }),
          "redis",
        );
        if (response && !/FLUSH/i.test(sent)) expect(await sentinels()).toBe(before);
        // A valid write may have changed them: plant them again for the next request.
        if ((await sentinels()) !== before) await plant();
      }),
      { numRuns: RUNS },
    );
  });
});
