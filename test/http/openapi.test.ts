import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import { COMMANDS } from "../../src/commands/index.ts";
import { parseInput } from "../../src/commands/input.ts";
import { BASE_PATH, ENDPOINT_NAMES, type EndpointName, NATIVE_API } from "../../src/core/api.ts";
import { ERROR_CODES, KvError, type KvErrorCode } from "../../src/core/errors.ts";
import { MAX_BATCH } from "../../src/core/limits.ts";
import { buildOpenApi, JSON_SCHEMA_DIALECT, openApiJson } from "../../src/http/openapi.ts";
import { type TempSqlite, tempSqlite } from "../helpers/databases.ts";
import { call, expectError, FULL_TOKEN, queryString, startKvServer } from "../helpers/harness.ts";
import { ApiDocument, inexpressible, type Json, newAjv } from "../helpers/openapi.ts";

// The OpenAPI document of the native API: how it is served (over real HTTP), what it holds, and
// that it says of inputs what the zod schemas check. That it agrees with the server on every
// request of the conformance suite is checked in test/conformance/node.test.ts.

const doc = buildOpenApi();
const api = new ApiDocument(doc);
const paths = doc.paths as Record<string, Json>;
const operationOf = (name: string) => {
  const { op } = api.operation(NATIVE_API[name as EndpointName].method, `${BASE_PATH}/${name}`);
  if (op === undefined) throw new Error(`no operation for ${name}`);
  return op;
};

describe("GET /api/kv/openapi.json", () => {
  let db: TempSqlite;
  let server: RunningServer;

  beforeAll(async () => {
    db = tempSqlite();
    server = await startKvServer({
      env: { DATABASE_URL: db.url, KV_READONLY_TOKEN: "read-token-0123456789" },
    });
  });
  afterAll(async () => {
    await server?.close();
    db?.remove();
  });

  it("serves the document as JSON without a token, like health", async () => {
    for (const token of [null, "wrong-token", FULL_TOKEN, "read-token-0123456789"]) {
      const r = await call(server.url, "GET", "openapi.json", { token });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("application/json");
      expect(r.text).toBe(openApiJson());
      expect(JSON.parse(r.text)).toEqual(doc);
    }
  });

  it("answers HEAD with the same headers and no body", async () => {
    const res = await fetch(`${server.url}/api/kv/openapi.json`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.text()).toBe("");
  });

  it("answers 405 with Allow to any other method", async () => {
    for (const method of ["POST", "DELETE", "PUT", "PATCH"]) {
      const r = await call(server.url, method, "openapi.json", { token: null, body: {} });
      expectError(r, 405, "METHOD_NOT_ALLOWED");
      expect(r.headers.get("allow")).toBe("GET, HEAD");
    }
  });

  it("keeps SPEC §3's order of checks on every other path", async () => {
    for (const path of ["openapi.jsonx", "openapi", "openapi.json/", "OPENAPI.JSON", "nope"]) {
      expectError(await call(server.url, "GET", path, { token: null }), 401, "UNAUTHORIZED");
      expectError(await call(server.url, "GET", path), 404, "NOT_FOUND");
    }
    expectError(await call(server.url, "GET", "/openapi.json", { token: null }), 401, "UNAUTHORIZED");
    expectError(await call(server.url, "POST", "get", { token: null, body: {} }), 401, "UNAUTHORIZED");
    expectError(await call(server.url, "POST", "get", { body: {} }), 405, "METHOD_NOT_ALLOWED");
    expectError(
      await call(server.url, "POST", "set", { token: "read-token-0123456789", body: {} }),
      403,
      "FORBIDDEN",
    );
    expectError(await call(server.url, "POST", "set", { body: {} }), 400, "BAD_REQUEST");
  });
});

describe("the document", () => {
  it("is OpenAPI 3.1.0 with JSON Schema 2020-12, plain JSON, built once", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.jsonSchemaDialect).toBe(JSON_SCHEMA_DIALECT);
    expect(JSON_SCHEMA_DIALECT).toBe("https://json-schema.org/draft/2020-12/schema");
    const info = doc.info as Json;
    expect(typeof info.title).toBe("string");
    expect(typeof info.version).toBe("string");
    expect(doc.servers).toEqual([{ url: BASE_PATH }]);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    expect(openApiJson()).toBe(JSON.stringify(doc));
  });

  it("holds every endpoint of NATIVE_API with its method, and only those and itself", () => {
    expect(Object.keys(paths).sort()).toEqual(
      [...ENDPOINT_NAMES.map((name) => `/${name}`), "/openapi.json"].sort(),
    );
    for (const name of ENDPOINT_NAMES) {
      expect(Object.keys(paths[`/${name}`] ?? {}), name).toEqual([NATIVE_API[name].method.toLowerCase()]);
      expect(operationOf(name).operationId).toBe(name);
    }
    expect(Object.keys(paths["/openapi.json"] ?? {})).toEqual(["get"]);
  });

  it("asks for the bearer token everywhere but health and itself", () => {
    const schemes = (doc.components as Json).securitySchemes as Json;
    expect(schemes).toEqual({ bearerToken: expect.objectContaining({ type: "http", scheme: "bearer" }) });
    expect(doc.security).toEqual([{ bearerToken: [] }]);
    for (const name of ENDPOINT_NAMES) {
      const op = operationOf(name);
      if (COMMANDS[name].spec.public === true) expect(op.security, name).toEqual([]);
      else expect(op.security, name).toBeUndefined();
      // 401 for a missing or wrong token, 403 for a write with the read-only token.
      expect(Object.hasOwn(op.responses as Json, "401"), name).toBe(COMMANDS[name].spec.public !== true);
      expect(Object.hasOwn(op.responses as Json, "403"), name).toBe(!NATIVE_API[name].read);
    }
    expect(((paths["/openapi.json"] as Json).get as Json).security).toEqual([]);
  });

  it("takes the query string on GET and DELETE and a JSON object body on POST", () => {
    for (const name of ENDPOINT_NAMES) {
      const op = operationOf(name);
      const { spec } = COMMANDS[name];
      const query = ((op.parameters ?? []) as Json[]).filter((p) => p.in === "query").map((p) => p.name);
      // The fields of the input object (of a transformed one: before the transform).
      const input = COMMANDS[name].input as unknown as { shape?: z.ZodRawShape; in?: z.ZodObject };
      const shape = Object.keys(input.shape ?? input.in?.shape ?? {});
      if (spec.method === "POST") {
        expect(query, name).toEqual([]);
        const body = op.requestBody as Json;
        expect(body.required, name).toBe(true);
        const schema = ((body.content as Json)["application/json"] as Json).schema as Json;
        expect(schema.type, name).toBe("object");
        expect(schema.additionalProperties, name).toBe(false);
        expect(Object.keys(schema.properties as Json), name).toEqual(shape);
      } else {
        expect(op.requestBody, name).toBeUndefined();
        expect(query, name).toEqual(spec.public === true ? [] : shape);
      }
    }
  });

  it("describes each answer: {result}, the envelope of SPEC §2 with its codes, and the headers", () => {
    for (const name of ENDPOINT_NAMES) {
      const { spec } = COMMANDS[name];
      const responses = operationOf(name).responses as Json;
      const statuses = Object.keys(responses).map(Number);
      expect(statuses, name).toEqual(expect.arrayContaining([200, 405, 500, 503]));
      if (spec.public !== true) expect(statuses, name).toEqual(expect.arrayContaining([400, 401]));
      for (const [status, declared] of Object.entries(responses)) {
        const response = api.resolve(declared);
        const headers = Object.fromEntries(
          Object.entries((response.headers ?? {}) as Json).map(([h, ref]) => [h, api.resolve(ref)]),
        );
        expect(headers["Cache-Control"], `${name} ${status}`).toMatchObject({
          required: true,
          schema: { const: "no-store" },
        });
        if (status === "405") expect(headers.Allow?.required, name).toBe(true);
        if (status === "200" && spec.cacheable) expect(headers["X-KV-Cache"]?.required, name).toBe(true);
        if (status === "200" && spec.public !== true)
          expect(headers["X-KV-Sync-Token"]?.required, name).toBe(true);
        const schema = ((response.content as Json)["application/json"] as Json).schema as Json;
        if (status === "200") {
          expect(schema.required, name).toEqual(["result"]);
          continue;
        }
        const error = (schema.properties as Json).error as Json;
        const codes = ((error.properties as Json).code as Json).enum as KvErrorCode[];
        expect(codes.length, `${name} ${status}`).toBeGreaterThan(0);
        for (const code of codes) expect(ERROR_CODES[code].status, `${name} ${code}`).toBe(Number(status));
      }
    }
  });

  it("holds only schemas Ajv compiles (JSON Schema 2020-12, strict), and only $refs that resolve", () => {
    const ajv = newAjv();
    let schemas = 0;
    const visit = (node: unknown, at: string): void => {
      if (typeof node !== "object" || node === null) return;
      const o = node as Json;
      if (typeof o.$ref === "string") expect(() => api.resolve(o), at).not.toThrow();
      for (const [key, value] of Object.entries(o)) {
        if (key === "schema" && typeof value === "object") {
          expect(ajv.validateSchema(value as object), `${at}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
          expect(() => ajv.compile(value as object), at).not.toThrow();
          schemas++;
        } else {
          visit(value, `${at}/${key}`);
        }
      }
    };
    visit(doc, "#");
    expect(schemas).toBeGreaterThan(50);
  });
});

describe("the document says of each input what its zod schema checks", () => {
  const many = (n: number, prefix = "k") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  const object = (names: string[]) => Object.fromEntries(names.map((n) => [n, 1]));
  const big = "x".repeat(1024 * 1024);
  const ok = "ok";
  /** [endpoint, input, what zod answers: "ok" or the error code]. */
  const cases: [EndpointName, Record<string, unknown>, string][] = [
    ["set", { key: "k", value: 1 }, ok],
    ["set", { key: "k", value: null }, ok],
    ["set", { key: "k" }, "BAD_REQUEST"],
    ["set", { key: 5, value: 1 }, "BAD_REQUEST"],
    ["set", { key: "k", value: 1, color: "red" }, "BAD_REQUEST"],
    ["set", { key: "k", value: 1, nx: true, xx: true }, "BAD_REQUEST"],
    ["set", { key: "k", value: 1, nx: true, xx: false }, ok],
    ["set", { key: "k", value: 1, nx: false, xx: true }, ok],
    ["set", { key: "k", value: 1, nx: "yes" }, "BAD_REQUEST"],
    ["set", { key: "", value: 1 }, "INVALID_KEY"],
    ["set", { key: "x".repeat(256), value: 1 }, ok],
    ["set", { key: "x".repeat(257), value: 1 }, "INVALID_KEY"],
    ["set", { key: "🙂".repeat(64), value: 1 }, ok],
    ["set", { key: "🙂".repeat(65), value: 1 }, "INVALID_KEY"],
    ["set", { key: "é".repeat(129), value: 1 }, "INVALID_KEY"],
    ["set", { key: "\ud800", value: 1 }, "INVALID_KEY"],
    ["set", { key: "a\udc00b", value: 1 }, "INVALID_KEY"],
    ["set", { key: "k", value: big.slice(2) }, ok],
    ["set", { key: "k", value: big }, "VALUE_TOO_LARGE"],
    ["set", { key: "k", value: 1, ttlMs: 0 }, "BAD_REQUEST"],
    ["set", { key: "k", value: 1, ttlMs: 1 }, ok],
    ["set", { key: "k", value: 1, ttlMs: 2 ** 40 }, ok],
    ["set", { key: "k", value: 1, ttlMs: 2 ** 40 + 1 }, "BAD_REQUEST"],
    ["set", { key: "k", value: 1, ttlMs: 1.5 }, "BAD_REQUEST"],
    ["set", { key: "k", value: 1, ttlMs: "5" }, "BAD_REQUEST"],
    ["setex", { key: "k", value: 1 }, "BAD_REQUEST"],
    ["setex", { key: "k", value: 1, ttlMs: 5 }, ok],
    ["expire", { key: "k", ttlMs: 0 }, "BAD_REQUEST"],
    ["incr", { key: "k" }, ok],
    ["incr", { key: "k", by: -(2 ** 53 - 1) }, ok],
    ["incr", { key: "k", by: 2 ** 53 }, "BAD_REQUEST"],
    ["decr", { key: "k", by: 1.5 }, "BAD_REQUEST"],
    ["hincrby", { key: "k", field: "f", by: 1 }, ok],
    ["hincrby", { key: "k", field: "f" }, "BAD_REQUEST"],
    ["hset", { key: "k", field: "f", value: 1 }, ok],
    ["hset", { key: "k", fields: { a: 1, "🙂": null } }, ok],
    ["hset", { key: "k", field: "f" }, "BAD_REQUEST"],
    ["hset", { key: "k", value: 1 }, "BAD_REQUEST"],
    ["hset", { key: "k" }, "BAD_REQUEST"],
    ["hset", { key: "k", field: "f", value: 1, fields: { a: 1 } }, "BAD_REQUEST"],
    ["hset", { key: "k", value: 1, fields: { a: 1 } }, "BAD_REQUEST"],
    ["hset", { key: "k", fields: {} }, "BAD_REQUEST"],
    ["hset", { key: "k", fields: [] }, "BAD_REQUEST"],
    ["hset", { key: "k", fields: { "": 1 } }, "INVALID_KEY"],
    ["hset", { key: "k", field: "", value: 1 }, "INVALID_KEY"],
    ["hset", { key: "k", fields: object(many(MAX_BATCH + 1)) }, "PAYLOAD_TOO_LARGE"],
    ["hdel", { key: "k", fields: ["a", "a"] }, ok],
    ["hdel", { key: "k", fields: [] }, "BAD_REQUEST"],
    ["mset", { pairs: { a: 1 } }, ok],
    ["mset", { pairs: { a: 1 }, ttlMs: 5 }, ok],
    ["mset", { pairs: object(many(MAX_BATCH)) }, ok],
    ["mset", { pairs: object(many(MAX_BATCH + 1)) }, "PAYLOAD_TOO_LARGE"],
    ["mset", { pairs: {} }, "BAD_REQUEST"],
    ["mset", { pairs: null }, "BAD_REQUEST"],
    ["mset", { pairs: ["a"] }, "BAD_REQUEST"],
    ["mset", { pairs: { "": 1 } }, "INVALID_KEY"],
    ["mset", { pairs: { a: big } }, "VALUE_TOO_LARGE"],
    ["mget", { keys: ["a"] }, ok],
    ["mget", { keys: many(MAX_BATCH) }, ok],
    ["mget", { keys: many(MAX_BATCH + 1) }, "PAYLOAD_TOO_LARGE"],
    ["mget", { keys: [] }, "BAD_REQUEST"],
    ["mget", { keys: "a" }, "BAD_REQUEST"],
    ["mget", { keys: [1] }, "BAD_REQUEST"],
    ["mget", { keys: ["a", ""] }, "INVALID_KEY"],
    ["lock", { key: "k", ttlMs: 1000 }, ok],
    ["unlock", { key: "k", token: "t" }, ok],
    ["unlock", { key: "k", token: "" }, "BAD_REQUEST"],
    ["extend", { key: "k", token: "t", ttlMs: 1 }, ok],
    ["get", { key: "k" }, ok],
    ["get", {}, "BAD_REQUEST"],
    ["get", { key: "" }, "INVALID_KEY"],
    ["get", { key: "x".repeat(257) }, "INVALID_KEY"],
    ["get", { key: "k", other: "x" }, "BAD_REQUEST"],
    ["hget", { key: "k" }, "BAD_REQUEST"],
    ["delete", { key: "k" }, ok],
    ["keys", {}, ok],
    ["keys", { pattern: "*", limit: "1" }, ok],
    ["keys", { pattern: "x".repeat(1024) }, ok],
    ["keys", { pattern: "x".repeat(1025) }, "BAD_REQUEST"],
    ...["1", "7", "0001", "0010", "0100", "999", "1000"].map(
      (limit): [EndpointName, Record<string, unknown>, string] => ["keys", { limit }, ok],
    ),
    ...["", "0", "0000", "1001", "9999", "01000", "abc", "1.5", "-1", " 1", "+1", "1e3"].map(
      (limit): [EndpointName, Record<string, unknown>, string] => ["keys", { limit }, "BAD_REQUEST"],
    ),
    ...["", "kAbc", "k-_0"].map((cursor): [EndpointName, Record<string, unknown>, string] => [
      "keys",
      { cursor },
      ok,
    ]),
    ...["k", "not a cursor!", "kAbc=", "K123"].map(
      (cursor): [EndpointName, Record<string, unknown>, string] => ["keys", { cursor }, "BAD_REQUEST"],
    ),
    ["keys", { foo: "1" }, "BAD_REQUEST"],
  ];

  function zodAnswer(name: EndpointName, input: unknown): string {
    try {
      parseInput(COMMANDS[name].input, input);
      return ok;
    } catch (error) {
      if (error instanceof KvError) return error.code;
      throw error;
    }
  }

  function documentProblem(name: EndpointName, input: Record<string, unknown>): string | undefined {
    const op = operationOf(name);
    if (NATIVE_API[name].method === "POST") {
      return api.inputProblem(op, new URL("http://kv.test/"), JSON.stringify(input)).problem;
    }
    const url = new URL(`http://kv.test/?${queryString(input as Record<string, string>)}`);
    return api.inputProblem(op, url, undefined).problem;
  }

  it.each(cases.map(([name, input, answer]) => [name, JSON.stringify(input).slice(0, 80), input, answer]))(
    "%s %s",
    (name, _, input, answer) => {
      const endpoint = name as EndpointName;
      const body = input as Record<string, unknown>;
      expect(zodAnswer(endpoint, body)).toBe(answer);
      const problem = documentProblem(endpoint, body);
      if (answer === ok) expect(problem).toBeUndefined();
      else if (inexpressible(answer as string, body, 0) !== undefined) expect(problem).toBeUndefined();
      else expect(problem, "the document accepts what zod refuses").toBeDefined();
    },
  );
});
