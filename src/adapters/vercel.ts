import type { Context, Hono } from "hono";
import type { EndpointName } from "../core/api.ts";
import { loadConfig } from "../core/config.ts";
import { createRuntime, type Runtime } from "../engine/runtime.ts";
import { openPrismaStore } from "../engine/sql/open.ts";
import { createApp } from "../http/app.ts";
import { createSweepApp } from "../http/cron.ts";
import type { RedisEndpoint } from "../http/redis.ts";
import { checkServerlessDatabase, configured } from "./serverless.ts";

let instance: Runtime | undefined;

/**
 * A serverless instance's runtime from its environment; a configuration mistake is
 * `UnavailableError` (503), since it is the server's fault, not the caller's.
 */
export function openRuntime(env: Record<string, string | undefined>): Runtime {
  return configured(() => {
    const config = checkServerlessDatabase(loadConfig(env), env);
    return createRuntime(config, openPrismaStore({ url: config.databaseUrl, timeoutMs: config.dbTimeoutMs }));
  });
}

/** The runtime of this serverless instance, created on its first request and kept while it is warm. */
export function instanceRuntime(): Runtime {
  instance ??= openRuntime(process.env);
  return instance;
}

/** The client's address: Vercel's edge sets `X-Real-IP` (a client cannot choose it). */
const vercelClient = (c: Context): string | undefined => c.req.header("X-Real-IP");

/**
 * The Hono app of one serverless function: it serves one endpoint, and answers 401 to
 * anonymous callers unless `KV_ALLOW_ANONYMOUS=1`.
 */
export function createEndpointApp(name: EndpointName): Hono {
  return createApp({ runtime: instanceRuntime, endpoints: [name], redis: [], remoteAddress: vercelClient });
}

/** One endpoint of the Redis protocol (SPEC §7) as its own function. */
export function createRedisEndpointApp(endpoint: RedisEndpoint): Hono {
  return createApp({
    runtime: instanceRuntime,
    endpoints: [],
    redis: [endpoint],
    remoteAddress: vercelClient,
  });
}

/** The expiry sweep as its own function, for a platform scheduler holding `CRON_SECRET`. */
export function createCronApp(): Hono {
  return createSweepApp({ runtime: instanceRuntime, cronSecret: () => process.env.CRON_SECRET });
}
