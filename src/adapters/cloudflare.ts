import { AsyncLocalStorage } from "node:async_hooks";
import type { Request as CfRequest, ExecutionContext, ScheduledController } from "@cloudflare/workers-types";
import { type Config, loadConfig } from "../core/config.ts";
import { UnavailableError } from "../core/errors.ts";
import { createRuntime, type Runtime } from "../engine/runtime.ts";
import type { SqlClient } from "../engine/sql/context.ts";
import type { Dialect } from "../engine/sql/dialect.ts";
import { PrismaStore } from "../engine/sql/prisma-store.ts";
import { createApp } from "../http/app.ts";
import { configured } from "./serverless.ts";

/** The variables of the Worker (wrangler.toml `[vars]`, `wrangler secret put`) and its bindings. */
export type CloudflareEnv = Record<string, unknown>;

/** Where a Worker keeps its data: the SQL it speaks, and how one request gets its own client. */
export interface WorkerBackend<Env extends CloudflareEnv> {
  dialect: Dialect;
  /** What `health` and the logs call the database (D1 or a PostgreSQL URL, never its secret). */
  describe: string;
  /**
   * Runs `fn` with a database client that belongs to this request alone (and is done with when
   * the request is). Throws `UnavailableError` when the database is not configured or reachable.
   */
  withClient<T>(env: Env, ctx: ExecutionContext, fn: (client: SqlClient) => Promise<T>): Promise<T>;
}

/** What `export default` of a Worker module holds. */
export interface WorkerHandlers<Env extends CloudflareEnv> {
  fetch(request: CfRequest, env: Env, ctx: ExecutionContext): Promise<Response>;
  scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void>;
}

/** The Worker's string variables, as `loadConfig` reads them. */
export function variables(env: CloudflareEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === "string") out[name] = value;
  return out;
}

function unavailable(error: UnavailableError): Response {
  console.error("tierkv:", error.message, error.cause ?? "");
  return Response.json(
    { error: { code: error.code, message: error.message } },
    { status: 503, headers: { "Cache-Control": "no-store" } },
  );
}

/**
 * A Cloudflare Worker serving every endpoint of SPEC §3 with the same Hono handlers as the Node
 * server and the Vercel functions, and the expiry sweep on its Cron Trigger.
 *
 * The store and its L1 live as long as the isolate; the database client does not. workerd ties
 * I/O to the request that started it, and one Prisma client shared by concurrent requests was
 * seen to hang them, so each request opens its own, and the isolate-wide store finds it through
 * AsyncLocalStorage.
 */
export function createWorker<Env extends CloudflareEnv>(backend: WorkerBackend<Env>): WorkerHandlers<Env> {
  const requestClient = new AsyncLocalStorage<SqlClient>();
  const current = (): SqlClient => {
    const client = requestClient.getStore();
    if (client === undefined) throw new Error("no database client outside a request");
    return client;
  };
  const client: SqlClient = {
    $queryRaw: (query) => current().$queryRaw(query),
    $executeRaw: (query) => current().$executeRaw(query),
    $transaction: (fn, options) => current().$transaction(fn, options),
    $disconnect: async () => {},
  };

  let runtime: Runtime | undefined;
  const isolateRuntime = (env: Env): Runtime => {
    if (runtime !== undefined) return runtime;
    const config: Config = loadConfig({ ...variables(env), DATABASE_URL: backend.describe });
    // Each request has its own database client, found through AsyncLocalStorage: a statement
    // shared by several requests would run on one request's client for all of them.
    runtime = createRuntime(config, new PrismaStore({ client, dialect: backend.dialect, coalesce: false }));
    return runtime;
  };
  const withDatabase = <T>(env: Env, ctx: ExecutionContext, fn: () => Promise<T>): Promise<T> =>
    backend.withClient(env, ctx, (c) => requestClient.run(c, fn));

  const app = createApp({
    // Cloudflare's edge sets the client's address; a client cannot choose it.
    remoteAddress: (c) => c.req.header("CF-Connecting-IP"),
    runtime: () => {
      if (runtime === undefined) throw new UnavailableError("the Worker has no runtime yet");
      return runtime;
    },
  });

  return {
    async fetch(request, env, ctx) {
      try {
        configured(() => isolateRuntime(env));
        return await withDatabase(env, ctx, async () => app.fetch(request as unknown as Request, env, ctx));
      } catch (error) {
        if (error instanceof UnavailableError) return unavailable(error);
        throw error;
      }
    },

    async scheduled(_controller, env, ctx) {
      const { engine } = isolateRuntime(env);
      ctx.waitUntil(
        withDatabase(env, ctx, () => engine.sweep()).then((removed) =>
          console.log(`tierkv: sweep removed ${removed} rows`),
        ),
      );
    },
  };
}
