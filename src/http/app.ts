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
import { attempt, chain, JsonText, type MaybePromise } from "../core/types.ts";
import type { Runtime } from "../engine/runtime.ts";
import { type AuthPolicy, authenticate } from "./auth.ts";
import { Exchange, fetchHeader, type HeaderReader } from "./exchange.ts";
import { Metrics } from "./metrics.ts";
import { OPENAPI_PATH, openApiJson } from "./openapi.ts";
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
   * How the platform reads a request header (lower-case name): the Node server reads Node's own
   * parsed headers, which skips building a Fetch `Headers` per request. Default: the Fetch
   * request's headers.
   */
  header?: HeaderReader;
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

/** An error's answer: its HTTP status and JSON body. */
interface ErrorAnswer {
  status: number;
  body: unknown;
}

/**
 * How an app turns an error into its answer: the SPEC §2 envelope, or the Redis protocol's own
 * form on its paths. Unexpected errors go to the log (never to the client); outages are logged
 * at most once every 10 s, since each request would report the same one.
 */
function errorAnswers(log: () => Logger, metrics?: Metrics): (error: unknown, c: Context) => ErrorAnswer {
  let unavailableLoggedAt = 0;
  return (error, c) => {
    if (!(error instanceof KvError) && clientWentAway(error, c)) {
      // Not a failure of tierkv: nobody is left to answer, and alerts on internal errors stay quiet.
      metrics?.clientAbort();
      log().info(
        { method: c.req.method, endpoint: endpointOf(c.req.path) },
        "the client closed the connection before the answer",
      );
      return {
        status: 400,
        body: { error: { code: "BAD_REQUEST", message: "the client closed the connection" } },
      };
    }
    const kv = error instanceof KvError && WIRE.has(error.code) ? error : new InternalError();
    if (kv.code === "INTERNAL") {
      log().error({ err: error, method: c.req.method, endpoint: endpointOf(c.req.path) }, "internal error");
    } else if (kv.code === "UNAVAILABLE") {
      metrics?.databaseFailure(kv instanceof DatabaseTimeoutError ? "timeout" : "unavailable");
      if (Date.now() - unavailableLoggedAt >= 10_000) {
        unavailableLoggedAt = Date.now();
        const cause = (kv.cause as Error | undefined)?.message ?? kv.message;
        log().error({ cause }, "answering 503: the database is unavailable");
      }
    }
    if (isRedisPath(c.req.path)) {
      // The Redis protocol's own error form (SPEC §7).
      const message = kv.code === "UNAUTHORIZED" ? "Unauthorized" : `ERR ${kv.message}`;
      return { status: kv.status, body: { error: message } };
    }
    return { status: kv.status, body: { error: { code: kv.code, message: kv.message } } };
  };
}

/**
 * What every tierkv app answers with: `Cache-Control: no-store` on each response, and errors as
 * the SPEC §2 envelope (see `errorAnswers`).
 */
export function withEnvelope(app: Hono, log: () => Logger): Hono {
  const answer = errorAnswers(log);
  // Set before the response exists, so it is part of it: changing a finished response's headers
  // would make the Node server build a full Fetch Response for every request.
  app.use(async (c, next) => {
    c.header("Cache-Control", "no-store");
    return next();
  });
  app.onError((error, c) => {
    const { status, body } = answer(error, c);
    c.header("Cache-Control", "no-store");
    return c.json(body, status as 400);
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

/** The endpoint a path names, for logs and metrics; `other` for any path nobody serves. */
function endpointOf(path: string): string {
  return ENDPOINT_OF_PATH.get(path) ?? "other";
}

/** Counts a request and writes its log line: never its query, body, values or token. */
function observe(exchange: Exchange, observer: Observer, status: number, ms: number): void {
  const { c } = exchange;
  const endpoint = endpointOf(c.req.path);
  observer.metrics.request(endpoint, status, ms / 1000);
  const log = observer.log();
  // A line per request is for debugging: at tens of thousands of requests a second it would
  // cost up to half of the throughput and flood the log (BENCHMARKS.md, "Cost of the request log").
  if (!log.isLevelEnabled("debug")) return;
  const { cache } = exchange;
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

const NATIVE_SYNC = NATIVE_SYNC_HEADER.toLowerCase();

/**
 * The tierkv HTTP API of SPEC §2–§5 as a Hono app over the command registry. Checks run in the
 * order SPEC §3 gives: authentication, path and method, permission, input, then the command.
 * Every answer to an authenticated request carries the instance's sync token (SPEC §8).
 *
 * One handler serves every path (Hono's fastest dispatch), and each answer is built once with
 * plain headers (see `Exchange`).
 */
export function createApp(options: AppOptions): Hono {
  const served = new Set<string>(options.endpoints ?? ENDPOINT_NAMES);
  const redis = new Set<string>(options.redis ?? REDIS_ENDPOINTS);
  const log = instanceLogger(options.runtime, options.log);
  const metrics = new Metrics();
  const observer: Observer = { log, metrics };
  const fail = errorAnswers(log, metrics);
  const read = options.header ?? fetchHeader;
  const cors = corsFor(options);
  const limits = rateLimits(options, metrics);
  const app = new Hono();

  const route = (exchange: Exchange): MaybePromise<Response> => {
    const { c } = exchange;
    const path = c.req.path;
    // Neither needs the instance's runtime: a misconfigured instance is still up, and documented.
    if (path === LIVENESS_PATH) {
      checkMethod(exchange, "GET");
      return exchange.json({ result: { status: "up" } });
    }
    if (path === OPENAPI_PATH) {
      checkMethod(exchange, "GET");
      return exchange.reply(openApiJson(), 200);
    }
    const runtime = options.runtime();
    const name = path.startsWith(`${BASE_PATH}/`) ? path.slice(BASE_PATH.length + 1) : "";
    const command = served.has(name) ? COMMANDS[name as EndpointName] : undefined;
    if (command?.spec.public) return serveCommand(exchange, runtime, command, "full", undefined);
    limits(exchange, runtime, "address");
    const access = authorize(exchange, runtime, options);
    limits(exchange, runtime, access);
    if (command === undefined) {
      const endpoint = redisEndpointOf(path);
      if (endpoint !== undefined && redis.has(endpoint))
        return serveRedis(exchange, runtime, endpoint, access);
      if (path === METRICS_PATH) {
        checkMethod(exchange, "GET");
        return exchange.reply(
          metrics.render(runtime.engine),
          200,
          "text/plain; version=0.0.4; charset=utf-8",
        );
      }
    }
    const reads = new RequestReads(exchange, runtime.engine, NATIVE_SYNC, true);
    return attempt(
      () => {
        if (command === undefined) throw new NotFoundError(`no endpoint at ${path}`);
        return serveCommand(exchange, runtime, command, access, reads);
      },
      (error) => {
        // A failure answers with the token too.
        reads.answer();
        throw error;
      },
    );
  };

  // The answer to a request: its route's, or its error's. Synchronous when nothing waits (an L1
  // hit), which lets the Node server write it without a promise in between.
  const answer = (exchange: Exchange): MaybePromise<Response> =>
    attempt(
      () => route(exchange),
      (error) => {
        const { status, body } = fail(error, exchange.c);
        return exchange.json(body, status);
      },
    );

  app.all("*", (c) => {
    const started = performance.now();
    const exchange = new Exchange(c, read);
    const done = (response: Response): Response => {
      observe(exchange, observer, response.status, performance.now() - started);
      return response;
    };
    const withCors = cors();
    if (withCors === undefined) return chain(answer(exchange), done);
    // Hono's CORS middleware adds its headers to the answer `next` leaves in `c.res`, and
    // answers preflights itself (with the envelope's Cache-Control set here).
    c.header("Cache-Control", "no-store");
    return (async () => {
      const preflight = await withCors(c, async () => {
        c.res = await answer(exchange);
      });
      return done(preflight ?? c.res);
    })();
  });
  // Only for what escapes the handler above (a bug in it): the same envelope.
  app.onError((error, c) => {
    const { status, body } = fail(error, c);
    c.header("Cache-Control", "no-store");
    return c.json(body, status as 400);
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
): (exchange: Exchange, runtime: Runtime, caller: "address" | "full" | "read") => void {
  let made: { runtime: Runtime; perToken?: RateLimiter; perAddress?: RateLimiter } | undefined;
  return (exchange, runtime, caller) => {
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
    const id = caller === "address" ? (options.remoteAddress?.(exchange.c) ?? "unknown") : caller;
    const retryAfter = limiter.take(id);
    if (retryAfter === 0) return;
    metrics.rateLimited();
    exchange.set("retry-after", String(retryAfter));
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
function corsFor(options: AppOptions): () => MiddlewareHandler | undefined {
  let made: { origins: readonly string[]; handler: MiddlewareHandler } | undefined;
  return () => {
    let origins: readonly string[] | undefined;
    try {
      origins = options.runtime().config.corsOrigins;
    } catch {
      // A misconfigured instance answers its 503 from the handler.
      origins = undefined;
    }
    if (origins === undefined) return undefined;
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
    return made.handler;
  };
}

/** Runs one native command for a caller with `access`, and answers its result. */
function serveCommand(
  exchange: Exchange,
  runtime: Runtime,
  command: Command,
  access: "full" | "read",
  reads: RequestReads | undefined,
): MaybePromise<Response> {
  const { spec } = command;
  const { c } = exchange;
  checkMethod(exchange, spec.method);
  if (access === "read" && !spec.read) throw new ForbiddenError();

  const run = (input: unknown): MaybePromise<Response> =>
    chain(execute(command, runtime.engine, parseInput(command.input, input), reads?.options), (outcome) => {
      reads?.answer();
      if (outcome.cache !== undefined) {
        exchange.set("x-kv-cache", outcome.cache);
        exchange.cache = outcome.cache;
      }
      if (!outcome.ok) throw outcome.error;
      const { result } = outcome;
      // Already JSON text (an L1 hit, or the value as stored): sent as is, never parsed.
      if (result instanceof JsonText) return exchange.reply(`{"result":${result.json}}`, 200);
      return exchange.json({ result });
    });

  // A public endpoint takes no input at all, so nothing it is sent can fail it.
  const query = spec.public ? {} : parseQuery(c.req.url);
  if (spec.method !== "POST") return run(query);
  const unknown = Object.keys(query);
  if (unknown.length > 0) {
    throw new BadRequestError(`unknown option: ${unknown.join(", ")} (this endpoint reads a JSON body)`);
  }
  return readJson(c.req.raw, exchange.header("content-length")).then(run);
}

function isRedisPath(path: string): boolean {
  return path === REDIS_PATH || path.startsWith(`${REDIS_PATH}/`);
}

/** The access the request's token grants; 401 when it grants none. */
function authorize(exchange: Exchange, runtime: Runtime, options: AppOptions): "full" | "read" {
  const { token, readonlyToken } = runtime.config;
  const policy: AuthPolicy = {
    token,
    readonlyToken,
    anonymous: options.anonymous?.(runtime) ?? (runtime.config.allowAnonymous ? "allow" : "deny"),
  };
  // Where the client is, and whether a proxy stands between, matter only to anonymous access.
  const open = token === undefined && readonlyToken === undefined;
  const proxied =
    open && (exchange.header("forwarded") !== undefined || exchange.header("x-forwarded-for") !== undefined);
  const address = open ? options.remoteAddress?.(exchange.c) : undefined;
  const access = authenticate(policy, exchange.header("authorization"), address, proxied);
  if (access === "none") throw new UnauthorizedError();
  return access;
}

/** 405 with `Allow` unless the request's method is the endpoint's (HEAD passes for GET). */
function checkMethod(exchange: Exchange, method: "GET" | "POST" | "DELETE"): void {
  const { c } = exchange;
  if (c.req.method === method || (method === "GET" && c.req.method === "HEAD")) return;
  const allow = method === "GET" ? "GET, HEAD" : method;
  exchange.set("allow", allow);
  throw new MethodNotAllowedError(`${c.req.path} takes ${allow}`);
}
