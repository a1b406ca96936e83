import { type Context, Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { type Command, execute } from "../commands/command.ts";
import { COMMANDS } from "../commands/index.ts";
import { parseInput } from "../commands/input.ts";
import { BASE_PATH, ENDPOINT_NAMES, type EndpointName } from "../core/api.ts";
import {
  BadRequestError,
  DatabaseTimeoutError,
  ForbiddenError,
  InternalError,
  KvError,
  MethodNotAllowedError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  WIRE_CODES,
} from "../core/errors.ts";
import { jsonConsoleLogger, type Logger, type LogLevel } from "../core/log.ts";
import { NATIVE_SYNC_HEADER } from "../core/sync-token.ts";
import { JsonText } from "../core/types.ts";
import type { Runtime } from "../engine/runtime.ts";
import { type AuthPolicy, authenticate } from "./auth.ts";
import { Metrics } from "./metrics.ts";
import { OPENAPI_PATH, serveOpenApi } from "./openapi.ts";
import { RateLimiter } from "./rate-limit.ts";
import { RequestReads } from "./reads.ts";
import { REDIS_ENDPOINTS, REDIS_PATH, type RedisEndpoint, redisEndpointOf, serveRedis } from "./redis.ts";
import { parseQuery, readJson } from "./request.ts";

export { BASE_PATH } from "../core/api.ts";

/** Options of `createApp`. */
export interface AppOptions {
  /** The instance's runtime, created on first use (so a serverless module loads without I/O). */
  runtime: () => Runtime;
  /** Which endpoints this app serves: all by default, one in a per-endpoint function. */
  endpoints?: readonly EndpointName[];
  /** Which endpoints of the Redis protocol (SPEC §7) it serves: all by default. */
  redis?: readonly RedisEndpoint[];
  /** With no token configured: who may call (the Node server: loopback only; serverless: deny unless allowed). */
  anonymous?: (runtime: Runtime) => AuthPolicy["anonymous"];
  /**
   * The client's address as the platform knows it (the socket's on the Node server, the header
   * its edge sets on a serverless platform), for the loopback rule and the per-address limit.
   */
  remoteAddress?: (c: Context) => string | undefined;
  /**
   * Where the instance logs: a JSON line per request at `debug`, unexpected errors (never sent
   * to the client) at `error`. Default: JSON lines on the console at `KV_LOG_LEVEL`.
   */
  log?: Logger;
}

/** The path of the instance's metrics, in Prometheus's text format. */
export const METRICS_PATH = "/metrics";

/**
 * The liveness path: 200 whenever the process answers, without a token and without asking the
 * database. `/api/kv/health` is the readiness check: it answers 503 while the database cannot
 * be reached, so "up" and "database reachable" are told apart.
 */
export const LIVENESS_PATH = "/livez";

const WIRE: ReadonlySet<string> = new Set(WIRE_CODES);

/** Whether a failure is the client hanging up mid-request (its body cut short, its socket gone). */
function clientWentAway(error: unknown, c: Context): boolean {
  if (c.req.raw.signal?.aborted) return true;
  const e = error as { message?: unknown; code?: unknown; name?: unknown } | null;
  return e?.message === "aborted" || e?.code === "ECONNRESET" || e?.name === "AbortError";
}

/** What an app counts and logs of each request it answers. */
interface Observer {
  log: () => Logger;
  metrics: Metrics;
}

/**
 * What every tierkv app answers with: `Cache-Control: no-store` on each response, and errors
 * as the SPEC §2 envelope. Unexpected errors go to the log (never to the client); outages
 * are logged at most once every 10 s, since each request would report the same one. With an
 * observer, each request is also counted and logged.
 */
export function withEnvelope(app: Hono, log: () => Logger, observer?: Observer): Hono {
  let unavailableLoggedAt = 0;
  // Set before the response exists, so it is part of it: changing a finished response's headers
  // would make the Node server build a full Fetch Response for every request.
  app.use(async (c, next) => {
    c.header("Cache-Control", "no-store");
    if (observer === undefined) return next();
    const started = performance.now();
    await next();
    observe(c, observer, performance.now() - started);
  });
  app.onError((error, c) => {
    if (!(error instanceof KvError) && clientWentAway(error, c)) {
      // Not a failure of tierkv: nobody is left to answer, and alerts on internal errors stay quiet.
      observer?.metrics.clientAbort();
      log().info(
        { method: c.req.method, endpoint: endpointOf(c.req.path) },
        "the client closed the connection before the answer",
      );
      return c.json({ error: { code: "BAD_REQUEST", message: "the client closed the connection" } }, 400);
    }
    const kv = error instanceof KvError && WIRE.has(error.code) ? error : new InternalError();
    if (kv.code === "INTERNAL") {
      log().error({ err: error, method: c.req.method, endpoint: endpointOf(c.req.path) }, "internal error");
    } else if (kv.code === "UNAVAILABLE") {
      observer?.metrics.databaseFailure(kv instanceof DatabaseTimeoutError ? "timeout" : "unavailable");
      if (Date.now() - unavailableLoggedAt >= 10_000) {
        unavailableLoggedAt = Date.now();
        const cause = (kv.cause as Error | undefined)?.message ?? kv.message;
        log().error({ cause }, "answering 503: the database is unavailable");
      }
    }
    if (isRedisPath(c.req.path)) {
      // The Redis protocol's own error form (SPEC §7).
      const message = kv.code === "UNAUTHORIZED" ? "Unauthorized" : `ERR ${kv.message}`;
      return c.json({ error: message }, kv.status as 400);
    }
    return c.json({ error: { code: kv.code, message: kv.message } }, kv.status as 400);
  });
  return app;
}

/** Names of the paths tierkv serves, for metrics: a bounded set, whatever paths clients send. */
const ENDPOINT_OF_PATH = new Map<string, string>([
  ...ENDPOINT_NAMES.map((name): [string, string] => [`${BASE_PATH}/${name}`, name]),
  [REDIS_PATH, "redis"],
  [`${REDIS_PATH}/`, "redis"],
  [`${REDIS_PATH}/pipeline`, "redis/pipeline"],
  [`${REDIS_PATH}/multi-exec`, "redis/multi-exec"],
  [METRICS_PATH, "metrics"],
  [OPENAPI_PATH, "openapi"],
  [LIVENESS_PATH, "livez"],
]);

/**
 * The L1 outcome of each request served, for its log line: kept beside the response, since
 * reading the response's headers back would make the Node server build them twice.
 */
const CACHE_OUTCOME = new WeakMap<Context, "HIT" | "MISS">();

/** The endpoint a path names, for logs and metrics; `other` for any path nobody serves. */
function endpointOf(path: string): string {
  return ENDPOINT_OF_PATH.get(path) ?? "other";
}

/** Counts a request and writes its log line: never its query, body, values or token. */
function observe(c: Context, observer: Observer, ms: number): void {
  const endpoint = endpointOf(c.req.path);
  const status = c.res.status;
  observer.metrics.request(endpoint, status, ms / 1000);
  const log = observer.log();
  // A line per request is for debugging: at tens of thousands of requests a second it would
  // cost a fifth of the throughput and flood the log (BENCHMARKS.md, "Cost of the request log").
  if (!log.isLevelEnabled("debug")) return;
  const cache = CACHE_OUTCOME.get(c);
  log.debug(
    {
      method: c.req.method,
      endpoint,
      status,
      ms: Math.round(ms * 1000) / 1000,
      ...(cache !== undefined ? { cache } : {}),
    },
    "request",
  );
}

/**
 * The tierkv HTTP API of SPEC §2–§5 as a Hono app over the command registry. Checks run in the
 * order SPEC §3 gives: authentication, path and method, permission, input, then the command.
 * Every answer to an authenticated request carries the instance's sync token (SPEC §8).
 */
export function createApp(options: AppOptions): Hono {
  const served = new Set<string>(options.endpoints ?? ENDPOINT_NAMES);
  const redis = new Set<string>(options.redis ?? REDIS_ENDPOINTS);
  const log = instanceLogger(options.runtime, options.log);
  const metrics = new Metrics();
  const app = withEnvelope(new Hono(), log, { log, metrics });
  app.use(corsFor(options));
  const limits = rateLimits(options, metrics);

  app.all("*", async (c) => {
    const path = c.req.path;
    // Neither needs the instance's runtime: a misconfigured instance is still up, and documented.
    if (path === LIVENESS_PATH) {
      checkMethod(c, "GET");
      return c.json({ result: { status: "up" } });
    }
    if (path === OPENAPI_PATH) {
      checkMethod(c, "GET");
      return serveOpenApi(c);
    }
    const runtime = options.runtime();
    const endpoint = redisEndpointOf(path);
    const name = path.startsWith(`${BASE_PATH}/`) ? path.slice(BASE_PATH.length + 1) : "";
    const command = served.has(name) ? COMMANDS[name as EndpointName] : undefined;
    if (command?.spec.public) return serveCommand(c, runtime, command, "full", undefined);
    limits(c, runtime, "address");
    const access = authorize(c, runtime, options);
    limits(c, runtime, access);
    if (endpoint !== undefined && redis.has(endpoint)) return serveRedis(c, runtime, endpoint, access);
    if (path === METRICS_PATH) {
      checkMethod(c, "GET");
      c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      return c.body(metrics.render(runtime.engine));
    }
    const reads = new RequestReads(c, runtime.engine, NATIVE_SYNC_HEADER, true);
    try {
      if (command === undefined) throw new NotFoundError(`no endpoint at ${path}`);
      return await serveCommand(c, runtime, command, access, reads);
    } catch (error) {
      reads.answer();
      throw error;
    }
  });

  return app;
}

/**
 * The instance's logger, made on first use: `given`, or JSON lines on the console at the
 * instance's `KV_LOG_LEVEL` (`info` while its configuration cannot be read, so a misconfigured
 * instance still logs what went wrong).
 */
export function instanceLogger(runtime: () => Runtime, given?: Logger): () => Logger {
  let logger = given;
  return () => {
    if (logger === undefined) {
      let level: LogLevel = "info";
      try {
        level = runtime().config.logLevel;
      } catch {
        // Logged at the default level.
      }
      logger = jsonConsoleLogger(level);
    }
    return logger;
  };
}

/**
 * The rate limits the instance's configuration sets (none by default): per client address,
 * checked before the token so that guessing tokens is limited too, and per token (each of the
 * two tokens, or anonymous access, is one caller). Over the limit: 429 with `Retry-After`.
 */
function rateLimits(
  options: AppOptions,
  metrics: Metrics,
): (c: Context, runtime: Runtime, caller: "address" | "full" | "read") => void {
  let made: { runtime: Runtime; perToken?: RateLimiter; perAddress?: RateLimiter } | undefined;
  return (c, runtime, caller) => {
    if (made?.runtime !== runtime) {
      const { rateLimitPerToken, rateLimitPerAddress } = runtime.config;
      const clock = runtime.engine.clock;
      made = {
        runtime,
        ...(rateLimitPerToken > 0 ? { perToken: new RateLimiter(rateLimitPerToken, clock) } : {}),
        ...(rateLimitPerAddress > 0 ? { perAddress: new RateLimiter(rateLimitPerAddress, clock) } : {}),
      };
    }
    const limiter = caller === "address" ? made.perAddress : made.perToken;
    if (limiter === undefined) return;
    const id = caller === "address" ? (options.remoteAddress?.(c) ?? "unknown") : caller;
    const retryAfter = limiter.take(id);
    if (retryAfter === 0) return;
    metrics.rateLimited();
    c.header("Retry-After", String(retryAfter));
    throw new RateLimitedError(
      `too many requests ${caller === "address" ? "from this address" : "with this token"}; retry in ${retryAfter} s`,
    );
  };
}

/** Request headers a browser client may send: the native API's and the Redis protocol's. */
const CORS_ALLOW_HEADERS = [
  "authorization",
  "content-type",
  "cache-control",
  "x-kv-sync-token",
  "upstash-encoding",
  "upstash-sync-token",
  "upstash-response-format",
  "upstash-telemetry-platform",
  "upstash-telemetry-runtime",
  "upstash-telemetry-sdk",
];
/** Response headers a browser client may read. */
const CORS_EXPOSE_HEADERS = ["x-kv-sync-token", "upstash-sync-token", "x-kv-cache", "retry-after", "allow"];

/**
 * CORS for the origins `KV_CORS_ORIGINS` names (off when unset): preflights are answered before
 * authentication, since browsers send them without credentials; an origin not named gets no
 * `Access-Control-Allow-Origin`, so the browser refuses the answer.
 */
function corsFor(options: AppOptions): MiddlewareHandler {
  let made: { origins: readonly string[]; handler: MiddlewareHandler } | undefined;
  return async (c, next) => {
    let origins: readonly string[] | undefined;
    try {
      origins = options.runtime().config.corsOrigins;
    } catch {
      // A misconfigured instance answers its 503 from the handler below.
      origins = undefined;
    }
    if (origins === undefined) return next();
    if (made?.origins !== origins) {
      made = {
        origins,
        handler: cors({
          origin: origins.includes("*") ? "*" : [...origins],
          allowMethods: ["GET", "HEAD", "POST", "DELETE"],
          allowHeaders: CORS_ALLOW_HEADERS,
          exposeHeaders: CORS_EXPOSE_HEADERS,
          maxAge: 600,
        }),
      };
    }
    return made.handler(c, next);
  };
}

/** Runs one native command for a caller with `access`, and answers its result. */
async function serveCommand(
  c: Context,
  runtime: Runtime,
  command: Command,
  access: "full" | "read",
  reads: RequestReads | undefined,
): Promise<Response> {
  const { spec } = command;
  checkMethod(c, spec.method);
  if (access === "read" && !spec.read) throw new ForbiddenError();

  // A public endpoint takes no input at all, so nothing it is sent can fail it.
  const query = spec.public ? {} : parseQuery(c.req.url);
  if (spec.method === "POST") {
    const unknown = Object.keys(query);
    if (unknown.length > 0) {
      throw new BadRequestError(`unknown option: ${unknown.join(", ")} (this endpoint reads a JSON body)`);
    }
  }
  const input = parseInput(command.input, spec.method === "POST" ? await readJson(c.req.raw) : query);
  const outcome = await execute(command, runtime.engine, input, reads?.options);
  reads?.answer();
  if (outcome.cache !== undefined) {
    c.header("X-KV-Cache", outcome.cache);
    CACHE_OUTCOME.set(c, outcome.cache);
  }
  if (!outcome.ok) throw outcome.error;
  const { result } = outcome;
  if (result instanceof JsonText) {
    // Already JSON text (an L1 hit, or the value as stored): sent as is, never parsed.
    c.header("Content-Type", "application/json");
    return c.body(`{"result":${result.json}}`);
  }
  return c.json({ result });
}

function isRedisPath(path: string): boolean {
  return path === REDIS_PATH || path.startsWith(`${REDIS_PATH}/`);
}

/** The access the request's token grants; 401 when it grants none. */
function authorize(c: Context, runtime: Runtime, options: AppOptions): "full" | "read" {
  const policy: AuthPolicy = {
    token: runtime.config.token,
    readonlyToken: runtime.config.readonlyToken,
    anonymous: options.anonymous?.(runtime) ?? (runtime.config.allowAnonymous ? "allow" : "deny"),
  };
  const proxied = c.req.header("Forwarded") !== undefined || c.req.header("X-Forwarded-For") !== undefined;
  const access = authenticate(policy, c.req.header("Authorization"), options.remoteAddress?.(c), proxied);
  if (access === "none") throw new UnauthorizedError();
  return access;
}

/** 405 with `Allow` unless the request's method is the endpoint's (HEAD passes for GET). */
function checkMethod(c: Context, method: "GET" | "POST" | "DELETE"): void {
  if (c.req.method === method || (method === "GET" && c.req.method === "HEAD")) return;
  const allow = method === "GET" ? "GET, HEAD" : method;
  c.header("Allow", allow);
  throw new MethodNotAllowedError(`${c.req.path} takes ${allow}`);
}
