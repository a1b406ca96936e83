import { BadRequestError } from "../core/errors.ts";
import { MAX_TTL_MS } from "../core/limits.ts";

/** The TTL of a `Store` write as backends take it: `undefined` for no expiry (`0` or absent). */
export function storeTtl(ttlMs: number | undefined): number | undefined {
  if (ttlMs === undefined || ttlMs === 0) return undefined;
  if (!Number.isInteger(ttlMs) || ttlMs < 0 || ttlMs > MAX_TTL_MS) {
    throw new BadRequestError(`ttlMs must be 0 (no expiry) or an integer from 1 to ${MAX_TTL_MS}`);
  }
  return ttlMs;
}
