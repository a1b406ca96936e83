import { z } from "zod";
import {
  BadRequestError,
  InvalidKeyError,
  type KvError,
  PayloadTooLargeError,
  ValueTooLargeError,
} from "../errors.ts";
import { MAX_BATCH, MAX_COUNTER, MAX_PATTERN_LENGTH, MAX_TTL_MS } from "../limits.ts";
import type { JsonValue } from "../store/types.ts";
import { keyProblem, valueProblem } from "../validate.ts";

type Issue = z.core.$ZodIssue;

/** Adds an issue that maps to a given error code. */
function fail(ctx: z.core.$RefinementCtx, code: KvError["code"], message: string, path?: string[]): void {
  ctx.addIssue({ code: "custom", message, params: { kv: code }, ...(path ? { path } : {}) });
}

/** A key or hash field: non-empty, well-formed UTF-8, at most 256 bytes (INVALID_KEY otherwise). */
export const keySchema = z.string().superRefine((s, ctx) => {
  const problem = keyProblem(s);
  if (problem !== undefined) fail(ctx, "INVALID_KEY", problem);
});

/** Any JSON value, at most 1 MiB encoded (VALUE_TOO_LARGE otherwise). */
export const valueSchema = z
  .custom<JsonValue>((v) => v !== undefined, "is required")
  .superRefine((v, ctx) => {
    const problem = valueProblem(JSON.stringify(v));
    if (problem !== undefined) fail(ctx, "VALUE_TOO_LARGE", problem);
  });

const ttlSchema = z.number().int().min(1).max(MAX_TTL_MS);

const bySchema = z.number().int().min(-MAX_COUNTER).max(MAX_COUNTER);

function batch<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .min(1, { message: "must not be empty" })
    .superRefine((a, ctx) => {
      if (a.length > MAX_BATCH) fail(ctx, "PAYLOAD_TOO_LARGE", `holds more than ${MAX_BATCH} items`);
    });
}

/** An object of key → value: non-empty, at most 1,000 entries, each key and value checked. */
function pairs(what: string) {
  // z.custom keeps the parsed object itself: a rebuilt object would turn a "__proto__" key into
  // a prototype instead of a key.
  return z
    .custom<Record<string, unknown>>(
      (v) => typeof v === "object" && v !== null && !Array.isArray(v),
      "must be an object",
    )
    .superRefine((o, ctx) => {
      const names = Object.keys(o);
      if (names.length === 0) return fail(ctx, "BAD_REQUEST", "must not be empty");
      if (names.length > MAX_BATCH)
        return fail(ctx, "PAYLOAD_TOO_LARGE", `holds more than ${MAX_BATCH} ${what}s`);
      for (const name of names) {
        const key = keySchema.safeParse(name);
        if (!key.success)
          return fail(ctx, "INVALID_KEY", `${what} ${JSON.stringify(name)} ${key.error.issues[0]?.message}`);
      }
      for (const name of names) {
        const value = valueSchema.safeParse(o[name]);
        if (!value.success)
          return fail(
            ctx,
            "VALUE_TOO_LARGE",
            `value of ${JSON.stringify(name)} ${value.error.issues[0]?.message}`,
          );
      }
    })
    .transform((o) => {
      const out: Record<string, JsonValue> = Object.create(null);
      for (const name of Object.keys(o)) out[name] = o[name] as JsonValue;
      return out;
    });
}

/** The input schema of every endpoint (SPEC §3). Unknown fields are refused. */
export const SCHEMAS = {
  set: z
    .strictObject({
      key: keySchema,
      value: valueSchema,
      ttlMs: ttlSchema.optional(),
      nx: z.boolean().optional(),
      xx: z.boolean().optional(),
    })
    .refine((b) => !(b.nx && b.xx), { message: "cannot be combined with xx", path: ["nx"] }),
  setex: z.strictObject({ key: keySchema, value: valueSchema, ttlMs: ttlSchema }),
  get: z.strictObject({ key: keySchema }),
  delete: z.strictObject({ key: keySchema }),
  exists: z.strictObject({ key: keySchema }),
  ttl: z.strictObject({ key: keySchema }),
  expire: z.strictObject({ key: keySchema, ttlMs: ttlSchema }),
  incr: z.strictObject({ key: keySchema, by: bySchema.optional() }),
  decr: z.strictObject({ key: keySchema, by: bySchema.optional() }),
  hset: z
    .strictObject({
      key: keySchema,
      field: keySchema.optional(),
      value: valueSchema.optional(),
      fields: pairs("field").optional(),
    })
    .superRefine((b, ctx) => {
      const single = b.field !== undefined || b.value !== undefined;
      if (single && b.fields !== undefined)
        fail(ctx, "BAD_REQUEST", "cannot be combined with field and value", ["fields"]);
      else if (!single && b.fields === undefined)
        fail(ctx, "BAD_REQUEST", "is required (or field and value)", ["fields"]);
      else if (single && (b.field === undefined || b.value === undefined))
        fail(ctx, "BAD_REQUEST", `is required with ${b.field === undefined ? "value" : "field"}`, [
          b.field === undefined ? "field" : "value",
        ]);
    })
    .transform((b) => ({
      key: b.key,
      fields: b.fields ?? singleField(b.field as string, b.value as JsonValue),
    })),
  hget: z.strictObject({ key: keySchema, field: keySchema }),
  hgetall: z.strictObject({ key: keySchema }),
  hdel: z.strictObject({ key: keySchema, fields: batch(keySchema) }),
  hincrby: z.strictObject({ key: keySchema, field: keySchema, by: bySchema }),
  mset: z.strictObject({ pairs: pairs("key"), ttlMs: ttlSchema.optional() }),
  mget: z.strictObject({ keys: batch(keySchema) }),
  keys: z.strictObject({
    pattern: z.string().max(MAX_PATTERN_LENGTH).optional(),
    limit: z
      .string()
      .regex(/^[0-9]{1,4}$/, { message: "must be an integer from 1 to 1000" })
      .transform(Number)
      .refine((n) => n >= 1 && n <= 1000, { message: "must be an integer from 1 to 1000" })
      .optional(),
    cursor: z.string().optional(),
  }),
  lock: z.strictObject({ key: keySchema, ttlMs: ttlSchema }),
  unlock: z.strictObject({ key: keySchema, token: z.string().min(1) }),
  extend: z.strictObject({ key: keySchema, token: z.string().min(1), ttlMs: ttlSchema }),
  health: z.strictObject({}),
} as const;

function singleField(field: string, value: JsonValue): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = Object.create(null);
  out[field] = value;
  return out;
}

const EXPECTED: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  array: "an array",
  object: "an object",
};

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const step of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, step)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[step];
  }
  return value;
}

/** Turns the first zod issue into the error SPEC §2 names for it, in words that name the field. */
export function issueToError(issue: Issue | undefined, input?: unknown): KvError {
  if (issue === undefined) return new BadRequestError("invalid input");
  const path = issue.path.map(String).join(".");
  const field = path === "" ? "the input" : path;
  if (issue.code === "unrecognized_keys")
    return new BadRequestError(`unknown option: ${issue.keys.join(", ")}`);
  if (issue.code === "custom") {
    const kv = (issue.params as { kv?: string } | undefined)?.kv;
    const message = `${field} ${issue.message}`;
    if (kv === "INVALID_KEY") return new InvalidKeyError(message);
    if (kv === "VALUE_TOO_LARGE") return new ValueTooLargeError(message);
    if (kv === "PAYLOAD_TOO_LARGE") return new PayloadTooLargeError(message);
    return new BadRequestError(message);
  }
  if (issue.code === "invalid_type") {
    if (valueAt(input, issue.path) === undefined) return new BadRequestError(`${field} is required`);
    return new BadRequestError(`${field} must be ${EXPECTED[issue.expected] ?? issue.expected}`);
  }
  if (issue.code === "too_small") {
    if (issue.origin === "array" || issue.origin === "string")
      return new BadRequestError(`${field} must not be empty`);
    return new BadRequestError(`${field} must be at least ${String(issue.minimum)}`);
  }
  if (issue.code === "too_big")
    return new BadRequestError(`${field} must be at most ${String(issue.maximum)}`);
  return new BadRequestError(`${field} ${issue.message}`);
}

/** Validates an endpoint's input; throws the matching `KvError`. */
export function parseInput<K extends keyof typeof SCHEMAS>(
  name: K,
  input: unknown,
): z.output<(typeof SCHEMAS)[K]> {
  const parsed = SCHEMAS[name].safeParse(input);
  if (!parsed.success) throw issueToError(parsed.error.issues[0], input);
  return parsed.data as z.output<(typeof SCHEMAS)[K]>;
}

/**
 * Decodes a query string strictly: a parameter given twice is refused, and so is a
 * percent-encoding that is not UTF-8 (INVALID_KEY for `key` and `field`).
 */
export function parseQuery(url: string): Record<string, string> {
  const q = url.indexOf("?");
  const out: Record<string, string> = Object.create(null);
  if (q < 0) return out;
  const raw = url.slice(q + 1).split("#")[0] ?? "";
  for (const part of raw.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = decode(eq < 0 ? part : part.slice(0, eq), "a query parameter name");
    const value = eq < 0 ? "" : part.slice(eq + 1);
    if (name in out) throw new BadRequestError(`${name} is given more than once`);
    out[name] = decode(value, name);
  }
  return out;
}

function decode(s: string, name: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    if (name === "key" || name === "field") throw new InvalidKeyError(`${name}: must be valid UTF-8`);
    throw new BadRequestError(`${name}: is not valid percent-encoded UTF-8`);
  }
}
