import { byteLength } from "./bytes.ts";
import { BadRequestError, InvalidKeyError, ValueTooLargeError } from "./errors.ts";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "./limits.ts";

/** What is wrong with a key or hash field (SPEC §1), or undefined when nothing is. */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return "must not be empty";
  if (!key.isWellFormed()) return "must be valid UTF-8";
  if (byteLength(key) > MAX_KEY_BYTES) return `must be at most ${MAX_KEY_BYTES} bytes`;
  return undefined;
}

/** What is wrong with a value's JSON encoding (SPEC §1), or undefined when nothing is. */
export function valueProblem(json: string): string | undefined {
  return byteLength(json) > MAX_VALUE_BYTES
    ? `encodes to more than ${MAX_VALUE_BYTES} bytes of JSON`
    : undefined;
}

/** Throws `InvalidKeyError` for a key SPEC §1 does not allow; `what` names it in the message. */
export function checkKey(key: string, what = "key"): string {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new InvalidKeyError(`${what} ${problem}`);
  return key;
}

/**
 * A value's JSON text, refusing what JSON would silently change: a number it cannot hold
 * (NaN, ±Infinity would become null) and a BigInt (which it cannot write at all).
 */
export function toJson(value: unknown, what = "value"): string {
  const json = JSON.stringify(value, (_, v: unknown) => {
    if (typeof v === "number" && !Number.isFinite(v)) {
      throw new BadRequestError(`${what} holds ${v}, which JSON cannot represent`);
    }
    if (typeof v === "bigint")
      throw new BadRequestError(`${what} holds a BigInt, which JSON cannot represent`);
    return v;
  });
  if (json === undefined) throw new BadRequestError(`${what} is not a JSON value`);
  return json;
}

/** Throws `ValueTooLargeError` for a value whose JSON encoding is over 1 MiB, `BadRequestError` for one JSON cannot hold. */
export function checkValue(value: unknown, what = "value"): void {
  const problem = valueProblem(toJson(value, what));
  if (problem !== undefined) throw new ValueTooLargeError(`${what} ${problem}`);
}
