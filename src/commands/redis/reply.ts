import type { KvError } from "../../core/errors.ts";

/** A Redis simple-string reply (`+OK`, `+PONG`, TYPE's `string`), as opposed to a bulk string. */
export class Status {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

export const OK = new Status("OK");

/**
 * A Redis reply in RESP2's shapes: bulk strings are strings, integers numbers, nil `null`,
 * arrays arrays; floats are bulk strings, as RESP2 sends them.
 */
export type Reply = string | number | null | Status | readonly Reply[];

/**
 * An error reply: `message` is Redis's own text (`ERR syntax error`, `WRONGTYPE …`). `status`
 * is the HTTP status a single command answers it with.
 */
export class RedisError extends Error {
  readonly status: number;

  constructor(message: string, status = 400) {
    super(message);
    this.name = "RedisError";
    this.status = status;
  }
}

/** A script stopped by the time limit (its transaction is undone, unlike other script errors). */
export class ScriptTimeoutError extends RedisError {
  constructor(limitMs: number, sha: string) {
    super(`ERR Script killed: it ran for longer than ${limitMs} ms (KV_SCRIPT_TIME_LIMIT_MS) script: ${sha}`);
    this.name = "ScriptTimeoutError";
  }
}

export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const NOT_AN_INTEGER = "ERR value is not an integer or out of range";
export const SYNTAX = "ERR syntax error";

/** The Redis error a tierkv error becomes: Redis's text where Redis has one, `ERR …` otherwise. */
export function redisErrorOf(error: KvError): RedisError {
  switch (error.code) {
    case "WRONGTYPE":
      return new RedisError(WRONGTYPE);
    case "NOT_INTEGER":
      return new RedisError(NOT_AN_INTEGER);
    case "OVERFLOW":
      return new RedisError("ERR increment or decrement would overflow");
    case "UNAVAILABLE":
      return new RedisError(`ERR ${error.message}`, 503);
    default:
      return new RedisError(`ERR ${error.message}`, error.status >= 500 ? error.status : 400);
  }
}
