import { BadRequestError } from "./errors.ts";
import { MAX_KEYS_LIMIT } from "./limits.ts";
import type { KeysPage } from "./types.ts";

/**
 * One page of a listing from the matches found in key order: at most `limit` keys, and a
 * cursor only when a match beyond the page was found.
 */
export function keysPage(found: string[], limit: number): KeysPage {
  const keys = found.slice(0, limit);
  const last = keys[keys.length - 1];
  return { keys, cursor: found.length > limit && last !== undefined ? encodeCursor(last) : null };
}

/** Encodes the last key of a page as an opaque cursor. */
export function encodeCursor(lastKey: string): string {
  return `k${toBase64url(lastKey)}`;
}

// base64url of UTF-8 without Node's Buffer: the client runs in browsers too.
function toBase64url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The text a base64url string holds, or undefined when it is not base64url. */
function fromBase64url(encoded: string): string | undefined {
  const base64 = encoded.replace(/-/g, "+").replace(/_/g, "/");
  try {
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/** The form of a cursor made by `encodeCursor` (a key in base64url), or empty for the first page. */
export const CURSOR_PATTERN = /^(?:k[A-Za-z0-9_-]+)?$/;

/** Decodes a cursor made by `encodeCursor`; `BadRequestError` for anything else. */
export function decodeCursor(cursor: string | null | undefined): string | null {
  if (cursor === undefined || cursor === null || cursor === "") return null;
  if (!CURSOR_PATTERN.test(cursor)) throw new BadRequestError("cursor is not a cursor returned by keys");
  const key = fromBase64url(cursor.slice(1));
  if (key === undefined || encodeCursor(key) !== cursor)
    throw new BadRequestError("cursor is not a cursor returned by keys");
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
