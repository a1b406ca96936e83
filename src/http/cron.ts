import { Hono } from "hono";
import {
  InternalError,
  KvError,
  MethodNotAllowedError,
  NotFoundError,
  UnauthorizedError,
} from "../errors.ts";
import type { Runtime } from "../runtime.ts";
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
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    c.res.headers.set("Cache-Control", "no-store");
  });
  app.onError((error, c) => {
    const kv = error instanceof KvError ? error : new InternalError();
    if (!(error instanceof KvError) || kv.code === "INTERNAL") console.error("tierkv: sweep failed", error);
    return c.json({ error: { code: kv.code, message: kv.message } }, kv.status as 400);
  });
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
    const removed = await options.runtime().store.sweep();
    return c.json({ result: { removed } });
  });
  return app;
}
