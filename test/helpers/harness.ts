import type { Hono } from "hono";
import { afterAll, beforeAll, expect } from "vitest";
import { type RunningServer, startServer } from "../../src/adapters/node-server.ts";
import { loadConfig } from "../../src/core/config.ts";
import type { Clock } from "../../src/core/types.ts";
import { createRuntime, type Runtime } from "../../src/engine/runtime.ts";
import { openPrismaStore } from "../../src/engine/sql/open.ts";
import type { KvStore, SnapshotSource } from "../../src/engine/types.ts";
import { type AppOptions, createApp } from "../../src/http/app.ts";
import { type FreshDatabase, tempSqlite } from "./databases.ts";

/** The full-access token every harness configures unless told otherwise. */
export const FULL_TOKEN = "full-access-token-0123456789abcdef";
/** The read-only token every harness configures unless told otherwise. */
export const READ_TOKEN = "read-only-token-fedcba9876543210";

/** A unique suffix for keys, prefixes and schema names. */
export function uniqueId(): string {
  return `${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Starts the real Node server (`startServer`) on a free loopback port with `FULL_TOKEN`, over
 * `store` when given (e.g. one with a fake clock) or else the database `env` names.
 */
export async function startKvServer(
  options: { store?: KvStore & SnapshotSource; env?: Record<string, string> } = {},
): Promise<RunningServer> {
  const config = loadConfig({
    KV_TOKEN: FULL_TOKEN,
    PORT: "0",
    KV_SWEEP_INTERVAL_MS: "0",
    KV_LOG_LEVEL: "warn",
    ...options.env,
  });
  return startServer(
    config,
    createRuntime(
      config,
      options.store ?? openPrismaStore({ url: config.databaseUrl, timeoutMs: config.dbTimeoutMs }),
    ),
  );
}

/**
 * The real Node server of the enclosing suite, on a fresh database of `open`'s: started before
 * its tests (with `env` on top of `DATABASE_URL`), stopped and the database dropped after them.
 */
export function suiteServer(
  open: () => FreshDatabase,
  env: Record<string, string> = {},
): () => RunningServer {
  let server: RunningServer | undefined;
  let drop: (() => Promise<void> | void) | undefined;
  beforeAll(async () => {
    const db = open();
    drop = db.drop;
    server = await startKvServer({ env: { DATABASE_URL: db.url, ...env } });
  });
  afterAll(async () => {
    await server?.close();
    await drop?.();
  });
  return () => {
    if (server === undefined) throw new Error("the suite's server is not running");
    return server;
  };
}

/** One instance: its app and runtime. */
export interface Harness {
  app: Hono;
  runtime: Runtime;
  close(): Promise<void>;
}

/** How to build a harness. */
export interface HarnessOptions {
  /** Environment on top of DATABASE_URL, KV_TOKEN and KV_READONLY_TOKEN (undefined removes one). */
  env?: Record<string, string | undefined>;
  /** Fake time for the store and its L1. */
  clock?: Clock;
  /** Use this store instead of Prisma on the URL (still behind L1 unless KV_L1_TTL_MS=0). */
  inner?: KvStore & SnapshotSource;
  app?: Omit<AppOptions, "runtime">;
}

/** An instance on the database at `url` (several may share one file, like several processes). */
export function createHarness(url: string, options: HarnessOptions = {}): Harness {
  const config = loadConfig({
    DATABASE_URL: url,
    KV_TOKEN: FULL_TOKEN,
    KV_READONLY_TOKEN: READ_TOKEN,
    // The suites' own output stays readable: no line per request.
    KV_LOG_LEVEL: "warn",
    ...options.env,
  });
  const inner = options.inner ?? openPrismaStore({ url, ...(options.clock ? { clock: options.clock } : {}) });
  const runtime = createRuntime(config, inner, options.clock);
  const app = createApp({ runtime: () => runtime, ...options.app });
  return { app, runtime, close: () => runtime.engine.close() };
}

/** An instance on its own fresh SQLite file; `close` also removes the file. */
export function sqliteHarness(options: HarnessOptions = {}): Harness & { url: string } {
  const db = tempSqlite();
  const harness = createHarness(db.url, options);
  return {
    ...harness,
    url: db.url,
    close: async () => {
      try {
        await harness.close();
      } finally {
        db.remove();
      }
    },
  };
}

/** The error half of the envelope. */
export interface ErrorBody {
  code: string;
  message: string;
}

/** A response, read. */
export interface Reply {
  status: number;
  headers: Headers;
  body: { result?: unknown; error?: ErrorBody } | undefined;
  text: string;
}

/** Options of `call`. */
export interface CallOptions {
  /** Query parameters, each percent-encoded with encodeURIComponent. */
  query?: Record<string, string>;
  /** A JSON body (serialized with JSON.stringify). */
  body?: unknown;
  /** A body sent as is. */
  raw?: string | Uint8Array;
  /** The bearer token; FULL_TOKEN by default, null for no Authorization header. */
  token?: string | null;
  headers?: Record<string, string>;
}

/** Percent-encodes query parameters. */
export function queryString(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
}

/**
 * Calls `/api/kv/<endpoint>` (or an absolute path) of an app in-process, or of a server at a
 * base URL over HTTP, and checks what every response must carry: `Cache-Control: no-store`.
 */
export async function call(
  target: Hono | string,
  method: string,
  endpoint: string,
  options: CallOptions = {},
): Promise<Reply> {
  const base = endpoint.startsWith("/") ? endpoint : `/api/kv/${endpoint}`;
  const path = options.query === undefined ? base : `${base}?${queryString(options.query)}`;
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? FULL_TOKEN : options.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let body: string | Uint8Array | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] = "application/json";
  }
  const init: RequestInit = { method, headers };
  if (body !== undefined)
    init.body = typeof body === "string" ? body : new Blob([body as Uint8Array<ArrayBuffer>]);
  const res =
    typeof target === "string" ? await fetch(`${target}${path}`, init) : await target.request(path, init);
  const text = await res.text();
  expect(res.headers.get("Cache-Control"), `Cache-Control of ${method} ${path}`).toBe("no-store");
  return {
    status: res.status,
    headers: res.headers,
    body: text === "" ? undefined : (JSON.parse(text) as Reply["body"]),
    text,
  };
}

/** Shorthands for the common calls of a harness (or of a server at a base URL). */
export function client(app: Hono | string) {
  return {
    get: (path: string, query: Record<string, string> = {}, options: CallOptions = {}) =>
      call(app, "GET", path, { query, ...options }),
    post: (path: string, body: unknown, options: CallOptions = {}) =>
      call(app, "POST", path, { body, ...options }),
    del: (key: string, options: CallOptions = {}) =>
      call(app, "DELETE", "delete", { query: { key }, ...options }),
  };
}

/** Asserts a 200 `{result}` envelope and answers the result. */
export function resultOf(reply: Reply): unknown {
  expect(reply.status, reply.text.slice(0, 500)).toBe(200);
  expect(reply.body).toBeDefined();
  expect(Object.keys(reply.body ?? {})).toEqual(["result"]);
  return reply.body?.result;
}

/** Asserts a 200 envelope holding exactly `expected`. */
export function expectResult(reply: Reply, expected: unknown): void {
  expect(resultOf(reply)).toEqual(expected);
}

/**
 * Asserts an error envelope with this status and code, whose message names every string of
 * `mentions` and holds no stack trace.
 */
export function expectError(reply: Reply, status: number, code: string, mentions: string[] = []): void {
  expect(reply.status, reply.text.slice(0, 500)).toBe(status);
  expect(Object.keys(reply.body ?? {})).toEqual(["error"]);
  const error = reply.body?.error;
  expect(error?.code).toBe(code);
  expect(Object.keys(error ?? {}).sort()).toEqual(["code", "message"]);
  expect(typeof error?.message).toBe("string");
  expect(error?.message).not.toMatch(/\n\s+at /);
  for (const m of mentions) expect(error?.message).toContain(m);
}
