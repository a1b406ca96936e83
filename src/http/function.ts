import type { Hono } from "hono";
import { loadConfig } from "../config.ts";
import { checkServerlessDatabase, configured } from "../platform/serverless.ts";
import { createRuntime, type Runtime } from "../runtime.ts";
import { createApp } from "./app.ts";
import { createSweepApp } from "./cron.ts";
import type { EndpointName } from "./endpoints.ts";

let instance: Runtime | undefined;

/** The runtime of this serverless instance, created on its first request and kept while it is warm. */
export function instanceRuntime(): Runtime {
  instance ??= configured(() => createRuntime(checkServerlessDatabase(loadConfig(), process.env)));
  return instance;
}

/**
 * The Hono app of one serverless function: it serves one endpoint, and answers 401 to
 * anonymous callers unless `KV_ALLOW_ANONYMOUS=1`.
 */
export function createEndpointApp(name: EndpointName): Hono {
  return createApp({ runtime: instanceRuntime, endpoints: [name] });
}

/** The expiry sweep as its own function, for a platform scheduler holding `CRON_SECRET`. */
export function createCronApp(): Hono {
  return createSweepApp({ runtime: instanceRuntime, cronSecret: () => process.env.CRON_SECRET });
}
