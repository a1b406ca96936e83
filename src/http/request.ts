import { BadRequestError, InvalidKeyError, PayloadTooLargeError } from "../core/errors.ts";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from "../core/limits.ts";

// Decoding of what a request carries: its query string and its JSON body, with SPEC §2's limits.

/**
 * Decodes a query string strictly: a parameter given twice is refused, and so is a
 * percent-encoding that is not UTF-8 (INVALID_KEY for `key` and `field`). It runs on every GET,
 * so it walks the URL in place rather than splitting it.
 */
export function parseQuery(url: string): Record<string, string> {
  const out: Record<string, string> = {};
  const q = url.indexOf("?");
  if (q < 0) return out;
  let end = url.indexOf("#", q);
  if (end < 0) end = url.length;
  for (let at = q + 1; at <= end; ) {
    let amp = url.indexOf("&", at);
    if (amp < 0 || amp > end) amp = end;
    if (amp > at) {
      let eq = url.indexOf("=", at);
      if (eq < 0 || eq > amp) eq = amp;
      const name = decode(url.slice(at, eq), "a query parameter name");
      if (Object.hasOwn(out, name)) throw new BadRequestError(`${name} is given more than once`);
      const value = decode(eq === amp ? "" : url.slice(eq + 1, amp), name);
      // A name such as `__proto__` is a parameter like any other, never the object's prototype.
      if (name === "__proto__") {
        Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
      } else {
        out[name] = value;
      }
    }
    at = amp + 1;
  }
  return out;
}

function decode(s: string, name: string): string {
  if (!s.includes("%") && !s.includes("+")) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    if (name === "key" || name === "field") throw new InvalidKeyError(`${name}: must be valid UTF-8`);
    throw new BadRequestError(`${name}: is not valid percent-encoded UTF-8`);
  }
}

/** Strict UTF-8: a body that is not valid UTF-8 is refused, never patched. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** A body of unknown length, refused as soon as it passes the cap. */
async function readCapped(request: Request): Promise<Uint8Array> {
  const body = request.body;
  if (body === null) throw new BadRequestError("a JSON body is required");
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new PayloadTooLargeError(`the request body is over ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** Reads a JSON object body of at most 16 MiB from a request (`length`: its `Content-Length`). */
export async function readJson(request: Request, length: string | undefined): Promise<unknown> {
  const parsed = await readJsonValue(request, length);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BadRequestError("the request body must be a JSON object");
  }
  return parsed;
}

/**
 * Reads a JSON body of at most 16 MiB (any JSON value, nested at most 1,000 deep) from a request
 * whose `Content-Length` header is `length`.
 */
export async function readJsonValue(request: Request, length: string | undefined): Promise<unknown> {
  const declared = length === undefined ? undefined : Number(length);
  if (declared !== undefined && declared > MAX_BODY_BYTES)
    throw new PayloadTooLargeError(`the request body is over ${MAX_BODY_BYTES} bytes`);
  // With a Content-Length within the cap, the HTTP layer delivers exactly that many bytes: read
  // them at once (the Node server's fast path). Without one, count the chunks as they come.
  const bytes =
    declared !== undefined && Number.isSafeInteger(declared)
      ? new Uint8Array(await request.arrayBuffer())
      : await readCapped(request);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new BadRequestError("the request body is not valid UTF-8");
  }
  if (text.trim() === "") throw new BadRequestError("a JSON body is required");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequestError("the request body is not valid JSON");
  }
  // JSON.parse turns a number too large for a double into Infinity, which would be stored as null.
  if (/[0-9]{309}|[eE]\+?0*[0-9]{3}/.test(text)) rejectNonFinite(parsed);
  // Nesting past the limit takes more brackets than a shorter text holds.
  if (text.length > MAX_JSON_DEPTH && nestingDepth(text) > MAX_JSON_DEPTH) {
    throw new BadRequestError(
      `the request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  return parsed;
}

/**
 * The deepest nesting of arrays and objects in a JSON text. Past a few thousand levels the
 * recursive JSON and validation code of the runtime would overflow its stack.
 */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return max;
}

function rejectNonFinite(body: unknown): void {
  if (typeof body !== "object" || body === null) {
    if (typeof body === "number" && !Number.isFinite(body))
      throw new BadRequestError("the body is a number too large to represent");
    return;
  }
  for (const [field, value] of Object.entries(body as Record<string, unknown>)) {
    const stack: unknown[] = [value];
    while (stack.length > 0) {
      const v = stack.pop();
      if (typeof v === "number" && !Number.isFinite(v)) {
        throw new BadRequestError(`${field} holds a number too large to represent`);
      }
      if (typeof v === "object" && v !== null) for (const item of Object.values(v)) stack.push(item);
    }
  }
}
