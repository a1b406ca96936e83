import { ConfigError } from "./errors.ts";
import { LOG_LEVELS, type LogLevel } from "./log.ts";

/** The default `DATABASE_URL`: an SQLite file under `./data`. */
export const DEFAULT_DATABASE_URL = "file:./data/kv.db";

/** The settings of one tierkv instance (SPEC §6), read from environment variables. */
export interface Config {
  databaseUrl: string;
  port: number;
  host: string;
  token: string | undefined;
  readonlyToken: string | undefined;
  allowAnonymous: boolean;
  l1TtlMs: number;
  l1MaxEntries: number;
  /** How far apart the clocks of instances may be (`KV_SYNC_SKEW_MS`, default 1,000; SPEC §8). */
  syncSkewMs: number;
  /** Longest run of one Lua script before it is stopped (`KV_SCRIPT_TIME_LIMIT_MS`, default 5,000). */
  scriptTimeLimitMs: number;
  /** How often the Node server deletes expired rows (`KV_SWEEP_INTERVAL_MS`, default 60,000; 0 = never). */
  sweepIntervalMs: number;
  /**
   * Longest wait for the database (`KV_DB_TIMEOUT_MS`, default 5,000): per statement, per new
   * connection, and SQLite's busy timeout. Past it the request answers 503 UNAVAILABLE.
   */
  dbTimeoutMs: number;
  /**
   * The browser origins allowed to call the API (`KV_CORS_ORIGINS`: `*`, or origins separated by
   * commas such as `https://app.example.com`); undefined leaves CORS off.
   */
  corsOrigins: readonly string[] | undefined;
  /** How much the instance logs (`KV_LOG_LEVEL`, default `info`: events; `debug` adds a line per request). */
  logLevel: LogLevel;
  /** Requests a second one token may make (`KV_RATE_LIMIT_PER_TOKEN`, default 0: no limit). */
  rateLimitPerToken: number;
  /** Requests a second one client address may make (`KV_RATE_LIMIT_PER_ADDRESS`, default 0: no limit). */
  rateLimitPerAddress: number;
  /** Whether the Node server serves the data browser at `/browser/` (`KV_BROWSER=1`; default off). */
  browser: boolean;
}

type Env = Record<string, string | undefined>;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}`);
  }
  return Number(raw);
}

const ORIGIN = /^https?:\/\/[^/\s?#]+$/;

function origins(raw: string | undefined): readonly string[] | undefined {
  const value = nonEmpty(raw);
  if (value === undefined) return undefined;
  const list = value.split(",").map((origin) => origin.trim());
  for (const origin of list) {
    if (origin !== "*" && !ORIGIN.test(origin))
      throw new ConfigError(
        "KV_CORS_ORIGINS must be * or origins such as https://app.example.com, separated by commas",
      );
  }
  return list;
}

function logLevel(raw: string | undefined): LogLevel {
  const value = nonEmpty(raw)?.toLowerCase() ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError(`KV_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  }
  return value as LogLevel;
}

/** Reads the configuration from an environment (process.env by default). */
export function loadConfig(env: Env = process.env): Config {
  return {
    databaseUrl: nonEmpty(env.DATABASE_URL) ?? DEFAULT_DATABASE_URL,
    port: integer(env, "PORT", 8787, 0, 65535),
    host: nonEmpty(env.HOST) ?? "127.0.0.1",
    token: nonEmpty(env.KV_TOKEN),
    readonlyToken: nonEmpty(env.KV_READONLY_TOKEN),
    allowAnonymous: env.KV_ALLOW_ANONYMOUS === "1" || env.KV_ALLOW_ANONYMOUS === "true",
    l1TtlMs: integer(env, "KV_L1_TTL_MS", 5_000, 0, 86_400_000),
    l1MaxEntries: integer(env, "KV_L1_MAX_ENTRIES", 10_000, 0, 10_000_000),
    syncSkewMs: integer(env, "KV_SYNC_SKEW_MS", 1_000, 0, 60_000),
    scriptTimeLimitMs: integer(env, "KV_SCRIPT_TIME_LIMIT_MS", 5_000, 1, 60_000),
    sweepIntervalMs: integer(env, "KV_SWEEP_INTERVAL_MS", 60_000, 0, 86_400_000),
    dbTimeoutMs: integer(env, "KV_DB_TIMEOUT_MS", 5_000, 100, 120_000),
    corsOrigins: origins(env.KV_CORS_ORIGINS),
    logLevel: logLevel(env.KV_LOG_LEVEL),
    rateLimitPerToken: integer(env, "KV_RATE_LIMIT_PER_TOKEN", 0, 0, 10_000_000),
    rateLimitPerAddress: integer(env, "KV_RATE_LIMIT_PER_ADDRESS", 0, 0, 10_000_000),
    browser: env.KV_BROWSER === "1" || env.KV_BROWSER === "true",
  };
}
