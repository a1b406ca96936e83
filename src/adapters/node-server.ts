import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener, type HttpBindings } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { type Logger as PinoLogger, pino } from "pino";
import { type Config, loadConfig } from "../core/config.ts";
import { ConfigError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { createRuntime, type Runtime } from "../engine/runtime.ts";
import { openPrismaStore } from "../engine/sql/open.ts";
import { createApp } from "../http/app.ts";
import { isLoopback } from "../http/auth.ts";
import { dataBrowser } from "./data-browser.ts";
import { startedAsProgram } from "./entry.ts";

/** A running Node server. */
export interface RunningServer {
  url: string;
  runtime: Runtime;
  /** Stops taking connections, lets in-flight requests finish, then closes the database. */
  close(): Promise<void>;
}

/**
 * The Node server's log: pino's JSON lines on standard output, written in the background
 * (a write never blocks a request on the pipe) and flushed when the server closes.
 */
export function serverLogger(config: Config): PinoLogger {
  return pino(
    { level: config.logLevel, base: { pid: process.pid } },
    pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * Serves every endpoint with `@hono/node-server`, sweeps expired rows periodically, and
 * applies pending migrations before taking traffic.
 */
export async function startServer(
  config: Config,
  runtime: Runtime = createRuntime(
    config,
    openPrismaStore({ url: config.databaseUrl, timeoutMs: config.dbTimeoutMs }),
  ),
  log: Logger & { flush?(done?: (error?: Error) => void): void } = serverLogger(config),
): Promise<RunningServer> {
  const anonymous = config.token === undefined && config.readonlyToken === undefined;
  if (anonymous && !isLoopback(config.host)) {
    throw new ConfigError(
      `refusing to listen on non-loopback HOST without a token: set KV_TOKEN (or bind HOST=127.0.0.1)`,
    );
  }
  if (config.browser && config.token === undefined) {
    throw new ConfigError("KV_BROWSER=1 needs KV_TOKEN: the data browser works with the full token only");
  }
  // The data browser's files (KV_BROWSER=1): served here only, never by the serverless builds.
  const browser = config.browser ? dataBrowser() : undefined;
  try {
    await runtime.engine.ping();
  } catch (error) {
    // The cause says what an operator needs (refused, unknown role, no such file); drivers
    // keep passwords out of their messages.
    const cause = ((error as { cause?: unknown }).cause ?? error) as Error;
    log.error(
      { cause: cause.message },
      "the database is unavailable at start; requests answer 503 until it is back",
    );
  }
  const app = createApp({
    runtime: () => runtime,
    anonymous: () => "loopback",
    remoteAddress: (c) => getConnInfo(c).remote.address,
    header: nodeHeader,
    log,
  });
  let closing: Promise<void> | undefined;
  // While shutting down, each response closes its connection, so keep-alive clients let go.
  const fetch = (request: Request, env: unknown): Response | Promise<Response> => {
    const response = browser?.(request) ?? app.fetch(request, env);
    if (closing === undefined) return response;
    return Promise.resolve(response).then((r) => {
      r.headers.set("Connection", "close");
      return r;
    });
  };
  // A request whose target cannot make a URL (`OPTIONS *`, a backslash before the query) never
  // reaches the app: it gets the envelope here, where @hono/node-server would answer an empty 400.
  const listener = getRequestListener(fetch, {
    hostname: config.host,
    errorHandler: (error) => {
      if ((error as Error).name !== "RequestError") log.error({ err: error }, "internal error");
      const [status, code, message] =
        (error as Error).name === "RequestError"
          ? [400, "BAD_REQUEST", "malformed request target"]
          : [500, "INTERNAL", "internal error"];
      return Response.json(
        { error: { code, message } },
        { status, headers: { "Cache-Control": "no-store" } },
      );
    },
  });
  const server = await new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    // Headers given twice arrive joined by ", ", as a Fetch `Headers` would join them.
    const s = createServer({ joinDuplicateHeaders: true }, listener);
    s.once("error", reject);
    s.listen(config.port, config.host, () => resolve(s));
  }).catch(async (error: unknown) => {
    await runtime.engine.close().catch(() => {});
    throw new ConfigError(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  });
  // Requests Node's parser refuses (an unknown method, headers or URL over its limit) still get
  // the envelope and Cache-Control of every other answer.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: import("node:stream").Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const message =
      error.code === "HPE_HEADER_OVERFLOW"
        ? "the request line or headers are too large"
        : "malformed HTTP request";
    const body = JSON.stringify({ error: { code: "BAD_REQUEST", message } });
    socket.end(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  // One sweep at a time, and close() waits for the one under way before it closes the database.
  let sweeping: Promise<void> | undefined;
  const sweeper =
    config.sweepIntervalMs > 0
      ? setInterval(() => {
          sweeping ??= runtime.engine
            .sweep()
            .then(
              (removed) => log.debug({ removed }, "sweep"),
              (error: unknown) => {
                const cause = ((error as { cause?: unknown }).cause ?? error) as Error;
                log.error({ cause: cause.message }, "sweep failed");
              },
            )
            .finally(() => {
              sweeping = undefined;
            });
        }, config.sweepIntervalMs)
      : undefined;
  sweeper?.unref();
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    runtime,
    close() {
      closing ??= (async () => {
        if (sweeper !== undefined) clearInterval(sweeper);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
          (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        });
        await sweeping;
        await runtime.engine.close();
        // The last lines reach the pipe before the process may exit.
        await new Promise<void>((resolve) =>
          log.flush === undefined ? resolve() : log.flush(() => resolve()),
        );
      })();
      return closing;
    },
  };
}

/**
 * A request header as Node parsed it (the server joins repeated headers, as Fetch does), without
 * the Fetch `Headers` object @hono/node-server would build from it on first use.
 */
function nodeHeader(c: Context, name: string): string | undefined {
  const value = (c.env as HttpBindings).incoming.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** `npm start` and `tierkv serve`: the server configured from the environment, until a signal. */
export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    console.error(`tierkv: ${(error as Error).message}`);
    process.exit(1);
  }
  const log = serverLogger(config);
  let running: RunningServer;
  try {
    running = await startServer(config, undefined, log);
  } catch (error) {
    log.fatal({}, (error as Error).message);
    log.flush();
    process.exitCode = 1;
    return;
  }
  const db = config.databaseUrl.startsWith("file:") ? config.databaseUrl : "PostgreSQL";
  // Where the server listens is said at any level but silent: PORT=0 picks the port at start.
  const announce = log.level === "silent" ? log : log.child({}, { level: "info" });
  announce.info({ url: running.url }, `tierkv listening on ${running.url} (${db})`);
  const stop = (signal: string) => {
    log.info({ signal }, "finishing in-flight requests before stopping");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

// Run when started as a program (npm start), not when imported (tierkv serve).
if (startedAsProgram(import.meta.url)) void main();
