import { type Context, Hono } from "hono";
import {
  BadRequestError,
  ForbiddenError,
  InternalError,
  KvError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
} from "../errors.ts";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from "../limits.ts";
import type { Runtime } from "../runtime.ts";
import { type AuthPolicy, authenticate } from "./auth.ts";
import { ENDPOINT_NAMES, ENDPOINTS, type EndpointName } from "./endpoints.ts";
import { parseInput, parseQuery } from "./input.ts";

/** The base path of every endpoint. */
export const BASE_PATH = "/api/kv";

/** Options of `createApp`. */
export interface AppOptions {
  /** The instance's runtime, created on first use (so a serverless module loads without I/O). */
  runtime: () => Runtime;
  /** Which endpoints this app serves: all by default, one in a per-endpoint function. */
  endpoints?: readonly EndpointName[];
  /** With no token configured: who may call (the Node server: loopback only; serverless: deny unless allowed). */
  anonymous?: (runtime: Runtime) => AuthPolicy["anonymous"];
  /** The client's address, for the loopback rule. */
  remoteAddress?: (c: Context) => string | undefined;
  /** Where unexpected errors are reported (default: console.error). Never sent to the client. */
  logError?: (error: unknown, c: Context) => void;
}

function envelope(c: Context, error: KvError): Response {
  return c.json({ error: { code: error.code, message: error.message } }, error.status as 400);
}

/**
 * What every tierkv app answers with: `Cache-Control: no-store` on each response, and errors
 * as the SPEC §2 envelope. Unexpected errors go to `logError` (never to the client); outages
 * are logged at most once every 10 s, since each request would report the same one.
 */
export function withEnvelope(
  app: Hono,
  logError: (error: unknown, c: Context) => void = (error) => console.error("tierkv: internal error", error),
): Hono {
  let unavailableLoggedAt = 0;
  app.use(async (c, next) => {
    await next();
    c.res.headers.set("Cache-Control", "no-store");
  });
  app.onError((error, c) => {
    const kv = error instanceof KvError ? error : new InternalError();
    if (!(error instanceof KvError) || kv.code === "INTERNAL") {
      logError(error, c);
    } else if (kv.code === "UNAVAILABLE" && Date.now() - unavailableLoggedAt >= 10_000) {
      unavailableLoggedAt = Date.now();
      const cause = (kv.cause as Error | undefined)?.message ?? kv.message;
      console.error(`tierkv: answering 503, the database is unavailable: ${cause}`);
    }
    const cache = (error as { cache?: string }).cache;
    if (cache !== undefined) c.header("X-KV-Cache", cache);
    return envelope(c, kv);
  });
  return app;
}

/**
 * The tierkv HTTP API of SPEC §2–§5 as a Hono app. Checks run in the order SPEC §3 gives:
 * authentication, path and method, permission, input, then the operation.
 */
export function createApp(options: AppOptions): Hono {
  const served = new Set(options.endpoints ?? ENDPOINT_NAMES);
  const app = withEnvelope(new Hono(), options.logError);

  app.all("*", async (c) => {
    const runtime = options.runtime();
    const path = c.req.path;
    const name = path.startsWith(`${BASE_PATH}/`) ? path.slice(BASE_PATH.length + 1) : undefined;
    const endpoint =
      name !== undefined && served.has(name as EndpointName) ? ENDPOINTS[name as EndpointName] : undefined;

    if (name !== "health" || endpoint === undefined) {
      const policy: AuthPolicy = {
        token: runtime.config.token,
        readonlyToken: runtime.config.readonlyToken,
        anonymous: options.anonymous?.(runtime) ?? (runtime.config.allowAnonymous ? "allow" : "deny"),
      };
      const proxied =
        c.req.header("Forwarded") !== undefined || c.req.header("X-Forwarded-For") !== undefined;
      const access = authenticate(policy, c.req.header("Authorization"), options.remoteAddress?.(c), proxied);
      if (access === "none") throw new UnauthorizedError();
      if (endpoint === undefined) throw new NotFoundError(`no endpoint at ${path}`);
      if (c.req.method !== endpoint.method && !(endpoint.method === "GET" && c.req.method === "HEAD")) {
        const allow = endpoint.method === "GET" ? "GET, HEAD" : endpoint.method;
        c.header("Allow", allow);
        throw new MethodNotAllowedError(`${path} takes ${allow}`);
      }
      if (access === "read" && !endpoint.read) throw new ForbiddenError();
    } else if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      c.header("Allow", "GET, HEAD");
      throw new MethodNotAllowedError(`${path} takes GET, HEAD`);
    }

    const query = name === "health" ? {} : parseQuery(c.req.url);
    if (endpoint.method === "POST") {
      const unknown = Object.keys(query);
      if (unknown.length > 0) {
        throw new BadRequestError(`unknown option: ${unknown.join(", ")} (this endpoint reads a JSON body)`);
      }
    }
    const input = parseInput(name as EndpointName, endpoint.method === "POST" ? await readJson(c) : query);
    const noCache = /(^|,)\s*no-cache\s*(,|$)/i.test(c.req.header("Cache-Control") ?? "");
    const outcome = await endpoint.run(runtime.store, input, noCache);
    if (outcome.cache !== undefined) c.header("X-KV-Cache", outcome.cache);
    return c.json({ result: outcome.result });
  });

  return app;
}

/** Reads a JSON body of at most 16 MiB. */
async function readJson(c: Context): Promise<unknown> {
  const declared = Number(c.req.header("Content-Length") ?? "0");
  if (declared > MAX_BODY_BYTES)
    throw new PayloadTooLargeError(`the request body is over ${MAX_BODY_BYTES} bytes`);
  const body = c.req.raw.body;
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
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
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
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
    throw new BadRequestError(
      `the request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BadRequestError("the request body must be a JSON object");
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
