// The Cloudflare Worker: every endpoint of SPEC §3 (the same Hono handlers as the Node server
// and the Vercel functions) on a D1 database, plus the expiry sweep on a Cron Trigger.
import { AsyncLocalStorage } from "node:async_hooks";
import type {
  Request as CfRequest,
  D1Database,
  ExecutionContext,
  ScheduledController,
} from "@cloudflare/workers-types";
import { PrismaD1 } from "@prisma/adapter-d1";
import { type Config, loadConfig } from "../config.ts";
import { InternalError, UnavailableError } from "../errors.ts";
import { PrismaClient } from "../generated/d1/client.ts";
import { createApp } from "../http/app.ts";
import type { Runtime } from "../runtime.ts";
import { CachedStore } from "../store/cached-store.ts";
import { SQLITE_DIALECT, type Sql } from "../store/dialect.ts";
import { PrismaStore, type SqlClient, type SqlRunner } from "../store/prisma-store.ts";
import { migrateD1 } from "./d1-migrate.ts";

/** The bindings and variables of the Worker (wrangler.toml, `wrangler secret put`). */
export interface CloudflareEnv {
  /** The D1 database (`[[d1_databases]]` binding "DB"). */
  DB?: D1Database;
  KV_TOKEN?: string;
  KV_READONLY_TOKEN?: string;
  KV_ALLOW_ANONYMOUS?: string;
  KV_L1_TTL_MS?: string;
  KV_L1_MAX_ENTRIES?: string;
  [name: string]: unknown;
}

// One Prisma client per request: workerd ties I/O to the request that started it, and a client
// shared by concurrent requests was seen to hang them. The client of the request at hand is
// found through AsyncLocalStorage, so the store (and its L1) can live for the whole isolate.
const requestClient = new AsyncLocalStorage<SqlRunner>();

function current(): SqlRunner {
  const client = requestClient.getStore();
  if (client === undefined) throw new Error("no database client outside a request");
  return client;
}

/** D1 refuses a statement that binds more parameters than this (local workerd allows more). */
const D1_MAX_BOUND_PARAMETERS = 100;

function checked(query: Sql): Sql {
  if (query.values.length > D1_MAX_BOUND_PARAMETERS) {
    throw new InternalError(`a statement binds ${query.values.length} parameters; D1 takes at most 100`);
  }
  return query;
}

const requestRunner: SqlRunner = {
  $queryRaw: (query) => current().$queryRaw(checked(query)),
  $executeRaw: (query) => current().$executeRaw(checked(query)),
};

const d1Client: SqlClient = {
  ...requestRunner,
  // D1 has no interactive transactions (Prisma's D1 adapter refuses them), so the statements
  // of a hash write run one after another on the request's client. Each statement is atomic;
  // see docs/deploy.md for what that means for concurrent writers of one hash.
  $transaction: (fn) => fn(requestRunner),
  $disconnect: async () => {},
};

let runtime: Runtime | undefined;
let migrated = false;

function variables(env: CloudflareEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === "string") out[name] = value;
  return out;
}

/** The isolate's runtime: the store on D1 behind the isolate's L1, built on the first request. */
function isolateRuntime(env: CloudflareEnv): Runtime {
  if (runtime !== undefined) return runtime;
  const config: Config = loadConfig({ ...variables(env), DATABASE_URL: "d1://DB" });
  const base = new PrismaStore({ client: d1Client, dialect: SQLITE_DIALECT });
  const store =
    config.l1TtlMs > 0 && config.l1MaxEntries > 0
      ? new CachedStore(base, { ttlMs: config.l1TtlMs, maxEntries: config.l1MaxEntries })
      : base;
  runtime = { config, store };
  return runtime;
}

/** Runs `fn` with this request's own D1 client, once the schema is there. */
async function withDatabase<T>(env: CloudflareEnv, fn: () => Promise<T>): Promise<T> {
  const db = env.DB;
  if (db === undefined) throw new UnavailableError("no D1 database is bound as DB (see wrangler.toml)");
  if (!migrated) {
    // Not a shared promise: a promise started by one request must not be awaited by another.
    try {
      await migrateD1(db);
    } catch (error) {
      throw new UnavailableError("the database is unavailable", { cause: error });
    }
    migrated = true;
  }
  const client = new PrismaClient({ adapter: new PrismaD1(db) }) as unknown as SqlRunner;
  return requestClient.run(client, fn);
}

const app = createApp({
  runtime: () => {
    if (runtime === undefined) throw new UnavailableError("the Worker has no runtime yet");
    return runtime;
  },
});

export default {
  async fetch(request: CfRequest, env: CloudflareEnv, ctx: ExecutionContext): Promise<Response> {
    isolateRuntime(env);
    // Health must answer 503 (in the envelope) rather than throw when the database is missing.
    return withDatabase(env, async () => app.fetch(request as unknown as Request, env, ctx)).catch(
      (error: unknown) => {
        if (!(error instanceof UnavailableError)) throw error;
        console.error("tierkv:", error.message, error.cause ?? "");
        return Response.json(
          { error: { code: error.code, message: error.message } },
          { status: 503, headers: { "Cache-Control": "no-store" } },
        );
      },
    );
  },

  /** The Cron Trigger of wrangler.toml: deletes expired keys and locks. */
  async scheduled(
    _controller: ScheduledController,
    env: CloudflareEnv,
    ctx: ExecutionContext,
  ): Promise<void> {
    const { store } = isolateRuntime(env);
    ctx.waitUntil(
      withDatabase(env, () => store.sweep()).then((removed) =>
        console.log(`tierkv: sweep removed ${removed} rows`),
      ),
    );
  },
};
