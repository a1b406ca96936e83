import { z } from "zod";
import type { Command } from "../commands/command.ts";
import { COMMANDS } from "../commands/index.ts";
import { BASE_PATH, ENDPOINT_NAMES, type EndpointName } from "../core/api.ts";
import { ERROR_CODES, type KvErrorCode, WIRE_CODES } from "../core/errors.ts";
import { MAX_COUNTER } from "../core/limits.ts";
import { NATIVE_SYNC_HEADER } from "../core/sync-token.ts";

// The OpenAPI 3.1 document of the native API (SPEC §2–§3). Inputs come from the zod schema each
// command validates its input with, so the document cannot say other than the server checks;
// results have no schema in the code, so what each endpoint answers is written down below.

/** A JSON Schema (2020-12) or an OpenAPI object, as plain JSON. */
export type JsonObject = { [key: string]: unknown };

/** Where the document is served (without a token, like `health`). */
export const OPENAPI_PATH = `${BASE_PATH}/openapi.json`;

/** The dialect of every schema of the document. */
export const JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";

/** What an endpoint answers: its `result`, and the errors its operation itself may answer. */
interface Outcome {
  summary: string;
  result: JsonObject;
  /** Beyond those of every request (see `errorsOf`): the errors of its input and operation. */
  errors: readonly KvErrorCode[];
}

const BOOLEAN = { type: "boolean" };
const COUNT = { type: "integer", minimum: 0 };
const VALUE = { description: "The value as it was stored: any JSON value." };
const VALUES = { type: "object", additionalProperties: VALUE };
const COUNTER = {
  type: "integer",
  minimum: -MAX_COUNTER,
  maximum: MAX_COUNTER,
  description: "The new value of the counter.",
};
const COUNTER_ERRORS = ["INVALID_KEY", "NOT_INTEGER", "OVERFLOW", "WRONGTYPE"] as const;

/** The result of each endpoint (SPEC §3), and the errors of its input and operation. */
const OUTCOMES: { readonly [N in EndpointName]: Outcome } = {
  set: {
    summary: "Store a value, replacing a key of any type",
    result: { ...BOOLEAN, description: "`false` when `nx` or `xx` prevented the write." },
    errors: ["INVALID_KEY", "VALUE_TOO_LARGE"],
  },
  setex: {
    summary: "Store a value with a TTL",
    result: { const: true },
    errors: ["INVALID_KEY", "VALUE_TOO_LARGE"],
  },
  get: { summary: "Read a value", result: VALUE, errors: ["INVALID_KEY", "NOT_FOUND", "WRONGTYPE"] },
  delete: {
    summary: "Delete a key of any type",
    result: { type: "integer", enum: [0, 1], description: "The number of keys removed." },
    errors: ["INVALID_KEY"],
  },
  exists: { summary: "Whether a key exists", result: BOOLEAN, errors: ["INVALID_KEY"] },
  ttl: {
    summary: "The remaining time to live of a key",
    result: {
      type: "integer",
      minimum: -2,
      description: "The remaining milliseconds; -1 when the key has no expiry, -2 when it is missing.",
    },
    errors: ["INVALID_KEY"],
  },
  expire: {
    summary: "Set the TTL of a key",
    result: { ...BOOLEAN, description: "Whether the key existed." },
    errors: ["INVALID_KEY"],
  },
  incr: { summary: "Add `by` (default 1) to a counter", result: COUNTER, errors: COUNTER_ERRORS },
  decr: { summary: "Subtract `by` (default 1) from a counter", result: COUNTER, errors: COUNTER_ERRORS },
  hset: {
    summary: "Set hash fields",
    result: { ...COUNT, description: "The number of fields newly created." },
    errors: ["INVALID_KEY", "VALUE_TOO_LARGE", "WRONGTYPE"],
  },
  hget: { summary: "Read a hash field", result: VALUE, errors: ["INVALID_KEY", "NOT_FOUND", "WRONGTYPE"] },
  hgetall: {
    summary: "Read every field of a hash",
    result: { ...VALUES, description: "Every field; `{}` when the key is missing." },
    errors: ["INVALID_KEY", "WRONGTYPE"],
  },
  hdel: {
    summary: "Delete hash fields",
    result: { ...COUNT, description: "The number of fields removed." },
    errors: ["INVALID_KEY", "WRONGTYPE"],
  },
  hincrby: { summary: "Add `by` to a hash field", result: COUNTER, errors: COUNTER_ERRORS },
  mset: {
    summary: "Store many values at once, all or none",
    result: { const: true },
    errors: ["INVALID_KEY", "VALUE_TOO_LARGE"],
  },
  mget: {
    summary: "Read many values",
    result: { ...VALUES, description: "The keys found that hold a string, each with its value." },
    errors: ["INVALID_KEY"],
  },
  keys: {
    summary: "List live keys matching a glob, one page at a time",
    result: {
      type: "object",
      required: ["keys", "cursor"],
      additionalProperties: false,
      properties: {
        keys: { type: "array", items: { type: "string" }, description: "In byte order." },
        cursor: {
          type: ["string", "null"],
          description: "The cursor of the next page; `null` when the listing is complete.",
        },
      },
    },
    errors: [],
  },
  lock: {
    summary: "Acquire a lock if no live lock of that name exists",
    result: {
      type: "object",
      required: ["acquired", "token"],
      additionalProperties: false,
      properties: { acquired: BOOLEAN, token: { type: ["string", "null"] } },
      description: "The token (random, at least 128 bits) when acquired, `null` otherwise.",
      oneOf: [
        { properties: { acquired: { const: true }, token: { type: "string", minLength: 1 } } },
        { properties: { acquired: { const: false }, token: { type: "null" } } },
      ],
    },
    errors: ["INVALID_KEY"],
  },
  unlock: {
    summary: "Release a lock",
    result: { ...BOOLEAN, description: "Whether this token held the lock, now released." },
    errors: ["INVALID_KEY"],
  },
  extend: {
    summary: "Reset the TTL of a lock",
    result: { ...BOOLEAN, description: "Whether this token still holds the lock." },
    errors: ["INVALID_KEY"],
  },
  health: {
    summary: "Whether the instance and its database answer",
    result: {
      type: "object",
      required: ["status", "db"],
      additionalProperties: false,
      properties: { status: { const: "ok" }, db: { enum: ["sqlite", "postgresql"] } },
    },
    errors: [],
  },
};

/** Codes that depend on the endpoint; any other wire code may answer any request. */
const PER_ENDPOINT: ReadonlySet<KvErrorCode> = new Set<KvErrorCode>([
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "PAYLOAD_TOO_LARGE",
  "NOT_FOUND",
  ...Object.values(OUTCOMES).flatMap((o) => o.errors),
]);

/** Every error code an endpoint's requests may be answered with (an unknown path aside). */
function errorsOf(command: Command): KvErrorCode[] {
  const { spec } = command;
  const codes = new Set<KvErrorCode>(WIRE_CODES.filter((code) => !PER_ENDPOINT.has(code)));
  if (!spec.public) {
    codes.add("UNAUTHORIZED");
    codes.add("BAD_REQUEST");
  }
  if (!spec.read) codes.add("FORBIDDEN");
  // A body over 16 MiB.
  if (spec.method === "POST") codes.add("PAYLOAD_TOO_LARGE");
  for (const code of OUTCOMES[command.name].errors) codes.add(code);
  return WIRE_CODES.filter((code) => codes.has(code));
}

/** A command's input as JSON Schema: what clients send (`io: "input"`), before any transform. */
function inputSchema(command: Command): JsonObject {
  const { $schema: _, ...schema } = z.toJSONSchema(command.input, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
  }) as JsonObject;
  // A z.custom() comes out as `{}` (anything) unless its `.meta()` says what it takes.
  const blank = blankSchemaIn(schema);
  if (blank !== undefined) throw new Error(`the input of ${command.name} says nothing of ${blank}`);
  return schema;
}

/** Where a schema holds an empty subschema (`{}`), if it does. */
function blankSchemaIn(schema: unknown, at = "the input"): string | undefined {
  if (typeof schema !== "object" || schema === null) return undefined;
  const s = schema as JsonObject;
  if (Object.keys(s).length === 0) return at;
  const subs: [string, unknown][] = [];
  for (const word of ["items", "additionalProperties", "propertyNames", "not"]) subs.push([word, s[word]]);
  for (const [name, sub] of Object.entries((s.properties ?? {}) as JsonObject)) subs.push([name, sub]);
  for (const word of ["anyOf", "oneOf", "allOf", "prefixItems"]) {
    for (const sub of (s[word] ?? []) as unknown[]) subs.push([word, sub]);
  }
  for (const [where, sub] of subs) {
    const blank = blankSchemaIn(sub, `${at}.${where}`);
    if (blank !== undefined) return blank;
  }
  return undefined;
}

/** A GET or DELETE input (the query string) as query parameters. */
function queryParameters(command: Command, schema: JsonObject): JsonObject[] {
  const { type, properties = {}, required = [], additionalProperties, ...rest } = schema;
  // Anything else (a constraint across parameters) could not be said by parameters alone.
  if (type !== "object" || additionalProperties !== false || Object.keys(rest).length > 0) {
    throw new Error(`the input of ${command.name} is not a plain object of query parameters`);
  }
  return Object.entries(properties as Record<string, JsonObject>).map(([name, parameter]) => ({
    name,
    in: "query",
    required: (required as string[]).includes(name),
    ...(typeof parameter.description === "string" ? { description: parameter.description } : {}),
    schema: parameter,
  }));
}

/** The `components` of the document: headers and error answers many operations share. */
interface Components {
  headers: JsonObject;
  responses: JsonObject;
}

/** Registers `object` as `components[kind][name]` and answers a reference to it. */
function shared(
  components: Components,
  kind: keyof Components,
  name: string,
  object: JsonObject,
): JsonObject {
  const existing = components[kind][name];
  if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(object)) {
    throw new Error(`two different ${kind} named ${name}`);
  }
  components[kind][name] = object;
  return { $ref: `#/components/${kind}/${name}` };
}

/** The headers of the answers, by name in `components.headers`. */
const HEADERS: Record<string, [name: string, object: JsonObject]> = {
  NoStore: [
    "Cache-Control",
    {
      description: "Always `no-store`: no cache may keep an answer.",
      required: true,
      schema: { type: "string", const: "no-store" },
    },
  ],
  SyncToken: [
    NATIVE_SYNC_HEADER,
    {
      description: "The instance's sync token: send it back to see every write it covers (SPEC §8).",
      schema: { type: "string" },
    },
  ],
  Cache: [
    "X-KV-Cache",
    {
      description: "`HIT` when L1 answered (for `mget`: every key), `MISS` otherwise.",
      schema: { type: "string", enum: ["HIT", "MISS"] },
    },
  ],
  Allow: [
    "Allow",
    { description: "The methods the path takes.", required: true, schema: { type: "string" } },
  ],
};

/** The headers named in HEADERS (`Required` after a name makes it required). */
function headers(components: Components, names: string[]): JsonObject {
  const out: JsonObject = {};
  for (const name of names) {
    const required = name.endsWith("Required");
    const base = required ? name.slice(0, -"Required".length) : name;
    const [header, object] = HEADERS[base] as [string, JsonObject];
    out[header] = shared(components, "headers", name, required ? { ...object, required: true } : object);
  }
  return out;
}

const json = (schema: JsonObject) => ({ "application/json": { schema } });

/** The error envelope of SPEC §2 with one of `codes`. */
function errorSchema(codes: readonly string[]): JsonObject {
  return {
    type: "object",
    required: ["error"],
    additionalProperties: false,
    properties: {
      error: {
        type: "object",
        required: ["code", "message"],
        additionalProperties: false,
        properties: {
          code: { type: "string", enum: [...codes] },
          message: { type: "string", description: "What is wrong, naming the field." },
        },
      },
    },
  };
}

const pascal = (code: string) =>
  code
    .toLowerCase()
    .split("_")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("");

/** An error answer with one of `codes` (all of one status), shared in `components.responses`. */
function errorResponse(
  components: Components,
  codes: readonly KvErrorCode[],
  headerNames: string[],
  suffix: string,
): JsonObject {
  const status = ERROR_CODES[codes[0] as KvErrorCode].status;
  return shared(components, "responses", `${codes.map(pascal).join("Or")}${suffix}`, {
    description: codes.map((code) => `\`${code}\`: ${ERROR_CODES[code].message}.`).join(" "),
    headers: headers(components, [...headerNames, ...(status === 405 ? ["Allow"] : [])]),
    content: json(errorSchema(codes)),
  });
}

function responsesOf(components: Components, command: Command): JsonObject {
  const { spec } = command;
  // An authenticated answer carries the sync token, and one of a cacheable read says whether L1
  // answered; a 401 carries neither.
  const answered = ["NoStore", ...(spec.public ? [] : ["SyncToken"]), ...(spec.cacheable ? ["Cache"] : [])];
  const suffix = spec.public ? "Public" : spec.cacheable ? "FromL1" : "";
  const responses: JsonObject = {
    200: {
      description: "Success: `{result}`.",
      headers: headers(
        components,
        answered.map((name) => (name === "NoStore" ? name : `${name}Required`)),
      ),
      content: json({
        type: "object",
        required: ["result"],
        additionalProperties: false,
        properties: { result: OUTCOMES[command.name].result },
      }),
    },
  };
  const byStatus = new Map<number, KvErrorCode[]>();
  for (const code of errorsOf(command)) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[status] =
      status === 401
        ? errorResponse(components, codes, ["NoStore"], "")
        : errorResponse(components, codes, answered, suffix);
  }
  return responses;
}

function operationOf(components: Components, command: Command): JsonObject {
  const { spec, name } = command;
  const input = inputSchema(command);
  const parameters: JsonObject[] = [];
  if (spec.method !== "POST" && !spec.public) parameters.push(...queryParameters(command, input));
  if (spec.cacheable) {
    parameters.push({
      name: "Cache-Control",
      in: "header",
      required: false,
      description: "`no-cache` skips L1, reads the database and refreshes L1.",
      schema: { type: "string" },
    });
  }
  if (!spec.public) {
    parameters.push({
      name: NATIVE_SYNC_HEADER,
      in: "header",
      required: false,
      description: "A sync token an answer carried: the answer reflects every write it covers.",
      schema: { type: "string" },
    });
  }
  const access = spec.public
    ? "Needs no token."
    : spec.read
      ? "The read-only token may call it."
      : "Needs the full-access token (403 `FORBIDDEN` with the read-only token).";
  const inputRule = spec.public
    ? ""
    : spec.method === "POST"
      ? " Takes a JSON object body and no query parameter."
      : " Any other query parameter is refused with `BAD_REQUEST`.";
  return {
    operationId: name,
    summary: OUTCOMES[name].summary,
    description: `${access}${inputRule}${spec.cacheable ? " L1 may answer it." : ""}`,
    ...(spec.public ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.method === "POST" ? { requestBody: { required: true, content: json(input) } } : {}),
    responses: responsesOf(components, command),
  };
}

/** The OpenAPI 3.1.0 document of the native API, built anew (see `openApiJson` for the cached text). */
export function buildOpenApi(): JsonObject {
  const components: Components = { headers: {}, responses: {} };
  const paths: JsonObject = {};
  for (const name of ENDPOINT_NAMES) {
    const command = COMMANDS[name];
    paths[`/${name}`] = { [command.spec.method.toLowerCase()]: operationOf(components, command) };
  }
  paths[OPENAPI_PATH.slice(BASE_PATH.length)] = {
    get: {
      operationId: "openapi",
      summary: "This document",
      description: "Needs no token.",
      security: [],
      responses: {
        200: {
          description: "The OpenAPI 3.1 document of the native API.",
          headers: headers(components, ["NoStore"]),
          content: json({ type: "object", required: ["openapi", "paths"] }),
        },
        405: errorResponse(components, ["METHOD_NOT_ALLOWED"], ["NoStore"], "Public"),
      },
    },
  };
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: JSON_SCHEMA_DIALECT,
    info: {
      title: "tierkv",
      version: "1",
      summary: "A Redis-like key-value store over HTTP.",
      description:
        "The native API. Every answer is `{result}` or the error envelope `{error: {code, message}}`, " +
        "with `Cache-Control: no-store`. A GET endpoint also answers HEAD. Checks run in this order, " +
        "and the first failure answers: authentication (401), path and method (404, 405), permission " +
        "(403), input (400, 413), then the operation itself.",
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: BASE_PATH }],
    security: [{ bearerToken: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerToken: {
          type: "http",
          scheme: "bearer",
          description:
            "`KV_TOKEN` for full access, `KV_READONLY_TOKEN` for the read endpoints only. With no token " +
            "configured, the Node server serves loopback clients without one.",
        },
      },
      headers: components.headers,
      responses: components.responses,
    },
  };
}

let text: string | undefined;

/** The document as JSON text, built on first use. */
export function openApiJson(): string {
  text ??= JSON.stringify(buildOpenApi());
  return text;
}
