import { Hono } from "hono";
import { MethodNotAllowedError, NotFoundError, UnauthorizedError } from "../core/errors.ts";
import type { Runtime } from "../engine/runtime.ts";
import { instanceLogger, withEnvelope } from "./app.ts";
import { safeEqual } from "./auth.ts";

/** The path Vercel Cron calls (see `crons` in vercel.json). */
export const SWEEP_PATH = "/api/cron/sweep";

/**
 * The expiry sweep as an HTTP function for a platform scheduler. Only a caller holding
 * `CRON_SECRET` as a bearer token may run it (Vercel Cron sends exactly that); with no
 * secret configured it refuses everyone, so the sweep is never a public endpoint.
 */
export function createSweepApp(options: {
  runtime: () => Runtime;
  cronSecret: () => string | undefined;
}): Hono {
  const log = instanceLogger(options.runtime);
  const app = withEnvelope(new Hono(), log);
  app.all("*", async (c) => {
    const secret = options.cronSecret();
    const header = c.req.header("Authorization") ?? "";
    if (secret === undefined || secret === "" || !safeEqual(header, `Bearer ${secret}`)) {
      throw new UnauthorizedError("the sweep takes the CRON_SECRET bearer token");
    }
    if (c.req.path !== SWEEP_PATH) throw new NotFoundError(`no endpoint at ${c.req.path}`);
    if (c.req.method !== "GET") {
      c.header("Allow", "GET");
      throw new MethodNotAllowedError(`${SWEEP_PATH} takes GET`);
    }
    const removed = await options.runtime().engine.sweep();
    log().info({ removed }, "sweep");
    return c.json({ result: { removed } });
  });
  return app;
}
