import { BadRequestError, NotIntegerError, OverflowError } from "../core/errors.ts";
import { MAX_COUNTER } from "../core/limits.ts";
import type { JsonValue } from "../core/types.ts";

const REDIS_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/**
 * The integer a counter holds: a JSON integer, or a string holding one as Redis writes it.
 * Throws `NotIntegerError` for anything else, including integers beyond ±(2^53−1).
 */
export function counterValue(value: JsonValue | undefined): number {
  if (value === undefined) return 0;
  let n: number | undefined;
  if (typeof value === "number" && Number.isInteger(value)) n = value;
  else if (typeof value === "string" && REDIS_INTEGER.test(value)) n = Number(value);
  if (n === undefined || !Number.isSafeInteger(n)) throw new NotIntegerError();
  return n === 0 ? 0 : n;
}

/** `current + by`, or `OverflowError` when the result leaves ±(2^53−1). */
export function addCounter(current: number, by: number): number {
  const next = current + by;
  if (Math.abs(next) > MAX_COUNTER) throw new OverflowError();
  return next;
}

/** A counter step as given: `BadRequestError` unless it is an integer within ±(2^53−1). */
export function checkStep(by: unknown): number {
  if (typeof by !== "number" || !Number.isSafeInteger(by)) {
    throw new BadRequestError("by must be an integer within ±(2^53−1)");
  }
  return by;
}
