import { BadRequestError, NotIntegerError, OverflowError } from "../errors.ts";
import { MAX_COUNTER, MAX_KEYS_LIMIT } from "../limits.ts";
import type { JsonValue } from "./types.ts";

/** An object with no prototype, so that keys such as `__proto__` are plain own properties. */
export function createRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

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

/** A random lock token of 128 bits, URL-safe. */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Compares two strings by their UTF-8 bytes, the order of `keys`. UTF-8 orders as code points
 * do, so comparing code points gives the same answer without encoding anything.
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800–U+DFFF) stand for code points above U+FFFF: they sort after U+E000–U+FFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** The UTF-8 length of a string, counted without encoding it. */
export function byteLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c >= 0x800 && !(c >= 0xd800 && c <= 0xdfff) ? 2 : 1;
  }
  return n;
}

/**
 * One page of a listing from the matches found in key order: at most `limit` keys, and a
 * cursor only when a match beyond the page was found.
 */
export function keysPage(found: string[], limit: number): { keys: string[]; cursor: string | null } {
  const keys = found.slice(0, limit);
  const last = keys[keys.length - 1];
  return { keys, cursor: found.length > limit && last !== undefined ? encodeCursor(last) : null };
}

/** Encodes the last key of a page as an opaque cursor. */
export function encodeCursor(lastKey: string): string {
  return `k${Buffer.from(lastKey, "utf8").toString("base64url")}`;
}

/** Decodes a cursor made by `encodeCursor`; `BadRequestError` for anything else. */
export function decodeCursor(cursor: string | null | undefined): string | null {
  if (cursor === undefined || cursor === null || cursor === "") return null;
  if (!/^k[A-Za-z0-9_-]+$/.test(cursor)) throw new BadRequestError("cursor is not a cursor returned by keys");
  const key = Buffer.from(cursor.slice(1), "base64url").toString("utf8");
  if (encodeCursor(key) !== cursor) throw new BadRequestError("cursor is not a cursor returned by keys");
  return key;
}

/** The page size of `keys`, checked. */
export function keysLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_KEYS_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_KEYS_LIMIT) {
    throw new BadRequestError(`limit must be an integer from 1 to ${MAX_KEYS_LIMIT}`);
  }
  return limit;
}
