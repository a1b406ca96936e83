import {
  type Answer,
  type DispatchOptions,
  dispatch,
  pipeline,
  transact,
} from "../commands/redis/dispatch.ts";
import { RedisError, type Reply, Status } from "../commands/redis/reply.ts";
import { KvError } from "../core/errors.ts";
import { MAX_BATCH } from "../core/limits.ts";
import { REDIS_SYNC_HEADER } from "../core/sync-token.ts";
import type { Engine } from "../engine/engine.ts";
import type { Runtime } from "../engine/runtime.ts";
import type { Exchange } from "./exchange.ts";
import { RequestReads } from "./reads.ts";
import { readJsonValue } from "./request.ts";

/** Where the Redis protocol is served (SPEC §7). */
export const REDIS_PATH = "/api/redis";

/** The three endpoints of the protocol: one command, a pipeline, a transaction. */
export type RedisEndpoint = "command" | "pipeline" | "multi-exec";

export const REDIS_ENDPOINTS: readonly RedisEndpoint[] = ["command", "pipeline", "multi-exec"];

/** The endpoint a path names, if it is one of the protocol's. */
export function redisEndpointOf(path: string): RedisEndpoint | undefined {
  if (path === REDIS_PATH || path === `${REDIS_PATH}/`) return "command";
  if (path === `${REDIS_PATH}/pipeline`) return "pipeline";
  if (path === `${REDIS_PATH}/multi-exec`) return "multi-exec";
  return undefined;
}

/**
 * A reply on Upstash's wire: with `Upstash-Encoding: base64`, every string at every depth
 * (status replies too) is the base64 of its UTF-8 bytes; integers and nil stay JSON.
 */
export function encodeReply(reply: Reply, base64: boolean): unknown {
  if (typeof reply === "string") return base64 ? Buffer.from(reply).toString("base64") : reply;
  if (reply instanceof Status) return base64 ? Buffer.from(reply.text).toString("base64") : reply.text;
  if (Array.isArray(reply)) return reply.map((item: Reply) => encodeReply(item, base64));
  return reply;
}

function slot(answer: Answer, base64: boolean): { result: unknown } | { error: string } {
  return answer.reply instanceof RedisError
    ? { error: answer.reply.message }
    : { result: encodeReply(answer.reply, base64) };
}

/** What a request of the protocol comes to: a JSON body and an HTTP status. */
interface Answered {
  body: unknown;
  status: number;
}

/** An error answer of the protocol: `{"error": "<Redis error text>"}` with an HTTP status. */
function fail(message: string, status: number): Answered {
  return { body: { error: message }, status };
}

/**
 * Serves one request of the Redis protocol, once the caller is authenticated: the body is
 * a command (`["SET","k","v"]`) or a list of them; each is answered in its own slot. Every
 * answer carries the instance's sync token (SPEC §8).
 */
export async function serveRedis(
  exchange: Exchange,
  runtime: Runtime,
  endpoint: RedisEndpoint,
  access: "full" | "read",
): Promise<Response> {
  // `Cache-Control: no-cache` is not read here: @upstash/redis's fetch (`cache: "no-store"`)
  // sends it with every request, about HTTP caches; the sync token is how its reads stay fresh.
  const reads = new RequestReads(exchange, runtime.engine, REDIS_SYNC_HEADER, false);
  let answered: Answered;
  try {
    answered = await run(exchange, runtime.engine, endpoint, { access, reads: reads.options });
  } finally {
    reads.answer();
  }
  return exchange.json(answered.body, answered.status);
}

async function run(
  exchange: Exchange,
  engine: Engine,
  endpoint: RedisEndpoint,
  options: DispatchOptions,
): Promise<Answered> {
  const { c } = exchange;
  if (c.req.method !== "POST") {
    exchange.set("allow", "POST");
    return fail(`ERR ${c.req.path} takes POST`, 405);
  }
  let body: unknown;
  try {
    body = await readJsonValue(c.req.raw, exchange.header("content-length"));
  } catch (error) {
    if (error instanceof KvError) return fail(`ERR ${error.message}`, error.status);
    throw error;
  }
  const base64 = exchange.header("upstash-encoding")?.toLowerCase() === "base64";

  if (endpoint === "command") {
    const answer = await dispatch(engine, body, options);
    if (answer.cache !== undefined) exchange.set("x-kv-cache", answer.cache);
    if (answer.reply instanceof RedisError) return fail(answer.reply.message, answer.reply.status);
    return { body: { result: encodeReply(answer.reply, base64) }, status: 200 };
  }

  if (!Array.isArray(body) || body.length === 0 || !body.every(Array.isArray)) {
    return fail("ERR the body must be a non-empty JSON array of commands", 400);
  }
  if (body.length > MAX_BATCH) return fail(`ERR a request holds at most ${MAX_BATCH} commands`, 413);
  if (endpoint === "multi-exec") {
    const answers = await transact(engine, body, options);
    if (answers instanceof RedisError) return fail(answers.message, answers.status);
    return { body: answers.map((answer) => slot(answer, base64)), status: 200 };
  }
  // A pipeline answers each command in its own slot, as if they ran in order (see `pipeline`).
  return { body: (await pipeline(engine, body, options)).map((answer) => slot(answer, base64)), status: 200 };
}
