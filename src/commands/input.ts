import { z } from "zod";
import {
  BadRequestError,
  InvalidKeyError,
  type KvError,
  PayloadTooLargeError,
  ValueTooLargeError,
} from "../core/errors.ts";
import { MAX_BATCH, MAX_COUNTER, MAX_KEY_BYTES, MAX_TTL_MS } from "../core/limits.ts";
import type { JsonValue } from "../core/types.ts";
import { keyProblem, valueProblem } from "../core/validate.ts";

type Issue = z.core.$ZodIssue;

/** Adds an issue that maps to a given error code. */
export function fail(
  ctx: z.core.$RefinementCtx,
  code: KvError["code"],
  message: string,
  path?: string[],
): void {
  ctx.addIssue({ code: "custom", message, params: { kv: code }, ...(path ? { path } : {}) });
}

// The `.meta()` of a schema is what the API document (`src/http/openapi.ts`) says of a refinement
// that zod cannot turn into JSON Schema itself; it changes nothing in what is accepted.

/**
 * A key in JSON Schema: non-empty, at most 256 characters, no lone surrogate (so it encodes to
 * valid UTF-8). JSON Schema counts characters, not bytes: the 256-byte limit is `keyProblem`'s.
 */
export const KEY_JSON_SCHEMA = {
  type: "string",
  description: `Non-empty, valid UTF-8, at most ${MAX_KEY_BYTES} bytes of UTF-8 (INVALID_KEY otherwise).`,
  minLength: 1,
  maxLength: MAX_KEY_BYTES,
  pattern: "^(?:[^\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$",
};

/** A value in JSON Schema: any JSON value (the 1 MiB limit is a byte count it cannot express). */
const VALUE_JSON_SCHEMA = {
  description: "Any JSON value whose JSON encoding is at most 1 MiB of UTF-8 (VALUE_TOO_LARGE otherwise).",
};

/** A key or hash field: non-empty, well-formed UTF-8, at most 256 bytes (INVALID_KEY otherwise). */
export const keySchema = z
  .string()
  .superRefine((s, ctx) => {
    const problem = keyProblem(s);
    if (problem !== undefined) fail(ctx, "INVALID_KEY", problem);
  })
  .meta(KEY_JSON_SCHEMA);

/** Any JSON value, at most 1 MiB encoded (VALUE_TOO_LARGE otherwise). */
export const valueSchema = z
  .custom<JsonValue>((v) => v !== undefined, "is required")
  .superRefine((v, ctx) => {
    const problem = valueProblem(JSON.stringify(v));
    if (problem !== undefined) fail(ctx, "VALUE_TOO_LARGE", problem);
  })
  .meta(VALUE_JSON_SCHEMA);

/** A TTL in whole milliseconds, 1…2^40. */
export const ttlSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_TTL_MS)
  .meta({ description: "Whole milliseconds, from 1 to 2^40." });

/** A counter step within ±(2^53−1). */
export const bySchema = z.number().int().min(-MAX_COUNTER).max(MAX_COUNTER);

/** A non-empty list of at most 1,000 items (PAYLOAD_TOO_LARGE past that). */
export function batch<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .min(1, { message: "must not be empty" })
    .superRefine((a, ctx) => {
      if (a.length > MAX_BATCH) fail(ctx, "PAYLOAD_TOO_LARGE", `holds more than ${MAX_BATCH} items`);
    })
    .meta({ maxItems: MAX_BATCH, description: `1 to ${MAX_BATCH} items (PAYLOAD_TOO_LARGE above).` });
}

/** An object of key → value: non-empty, at most 1,000 entries, each key and value checked. */
export function pairs(what: string) {
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
    .meta({
      type: "object",
      description: `1 to ${MAX_BATCH} ${what}s (PAYLOAD_TOO_LARGE above), each named as a key is, with any JSON value.`,
      minProperties: 1,
      maxProperties: MAX_BATCH,
      propertyNames: KEY_JSON_SCHEMA,
      additionalProperties: VALUE_JSON_SCHEMA,
    })
    .transform((o) => {
      const out: Record<string, JsonValue> = Object.create(null);
      for (const name of Object.keys(o)) out[name] = o[name] as JsonValue;
      return out;
    });
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

/**
 * Validates a command's input; throws the `KvError` SPEC §2 names for the first problem. An
 * input of exactly one valid `key` (the hot reads) is checked without zod; anything else, or
 * anything wrong with it, goes through the schema, so the errors are the schema's.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  if (schema === (keyInput as z.ZodType) && isKeyOnly(input)) return input as z.output<S>;
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw issueToError(parsed.error.issues[0], input);
  return parsed.data;
}

/** The input of a command that takes one key. */
export const keyInput = z.strictObject({ key: keySchema });

/** The input of `incr` and `decr`. */
export const counterInput = z.strictObject({ key: keySchema, by: bySchema.optional() });

/** A lock token as `lock` answered it. */
export const tokenSchema = z.string().min(1);

function isKeyOnly(input: unknown): input is { key: string } {
  if (typeof input !== "object" || input === null) return false;
  let names = 0;
  for (const name in input) {
    if (name !== "key" || ++names > 1) return false;
  }
  const key = (input as { key?: unknown }).key;
  return names === 1 && typeof key === "string" && keyProblem(key) === undefined;
}
