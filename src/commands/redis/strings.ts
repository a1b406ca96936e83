import { createRecord } from "../../core/types.ts";
import { snapshotGetJson } from "../../engine/snapshot.ts";
import { expireArg, expireAtArg, integerArg, option } from "./args.ts";
import { type RedisCommand, type RedisContext, redisCommand, redisString, redisStringOf } from "./command.ts";
import { OK, RedisError, SYNTAX } from "./reply.ts";

// Strings and counters. Writes map onto the native units (set, setex, mset, incr, decr); reads
// go through the same L1 the native reads use.

/** A string key's value in the Redis view, or null when missing; WRONGTYPE for a hash. */
async function stringOf(r: RedisContext, key: string): Promise<string | null> {
  const json = snapshotGetJson(await r.read(key, "none"));
  return json === undefined ? null : redisString(json);
}

const get = redisCommand("get", 2, false, async (r, [key]) => {
  try {
    return redisStringOf(await r.call("get", { key }));
  } catch (error) {
    if ((error as { code?: string }).code === "NOT_FOUND") return null;
    throw error;
  }
});

const set = redisCommand("set", -3, true, async (r, [key, value, ...rest]) => {
  let nx = false;
  let xx = false;
  let expiry: { unit: number; at: boolean; arg: string } | undefined;
  for (let i = 0; i < rest.length; i++) {
    const name = option(rest[i]);
    const next = rest[i + 1];
    if (name === "NX" && !xx) nx = true;
    else if (name === "XX" && !nx) xx = true;
    else if (
      (name === "EX" || name === "PX" || name === "EXAT" || name === "PXAT") &&
      !expiry &&
      next !== undefined
    ) {
      expiry = { unit: name.startsWith("EX") ? 1000 : 1, at: name.endsWith("AT"), arg: next };
      i++;
    } else if ((name === "KEEPTTL" || name === "GET") && !expiry) {
      throw new RedisError(`ERR SET ${name} is not supported by tierkv yet`);
    } else throw new RedisError(SYNTAX);
  }
  let ttlMs: number | undefined;
  if (expiry !== undefined) {
    ttlMs = expiry.at
      ? expireAtArg(expiry.arg, expiry.unit, "set", false) - r.engine.clock.now()
      : expireArg(expiry.arg, expiry.unit, "set");
    if (ttlMs <= 0) {
      // An expiry already past: Redis stores the value and it is gone at once.
      if (nx) return (await r.call("exists", { key })) ? null : OK;
      const removed = (await r.call("delete", { key })) as number;
      return xx && removed === 0 ? null : OK;
    }
  }
  const written = await r.call("set", {
    key,
    value,
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    ...(nx ? { nx } : {}),
    ...(xx ? { xx } : {}),
  });
  return written ? OK : null;
});

function setex(name: string, unit: number): RedisCommand {
  return redisCommand(name, 4, true, async (r, [key, time, value]) => {
    await r.call("setex", { key, value, ttlMs: expireArg(time as string, unit, name) });
    return OK;
  });
}

const setnx = redisCommand("setnx", 3, true, async (r, [key, value]) =>
  (await r.call("set", { key, value, nx: true })) ? 1 : 0,
);

const mget = redisCommand(
  "mget",
  -2,
  false,
  async (r, keys) => {
    const found = JSON.parse(((await r.call("mget", { keys })) as { json: string }).json) as Record<
      string,
      unknown
    >;
    return keys.map((key) => (Object.hasOwn(found, key) ? redisStringOf(found[key]) : null));
  },
  "all",
);

const mset = redisCommand(
  "mset",
  -3,
  true,
  async (r, args) => {
    if (args.length % 2 !== 0) throw new RedisError("ERR wrong number of arguments for 'mset' command");
    const pairs = createRecord<string>();
    for (let i = 0; i < args.length; i += 2) pairs[args[i] as string] = args[i + 1] as string;
    await r.call("mset", { pairs });
    return OK;
  },
  "pairs",
);

const incr = redisCommand("incr", 2, true, (r, [key]) => r.call("incr", { key }) as Promise<number>);
const decr = redisCommand("decr", 2, true, (r, [key]) => r.call("decr", { key }) as Promise<number>);
const incrby = redisCommand(
  "incrby",
  3,
  true,
  (r, [key, by]) => r.call("incr", { key, by: integerArg(by as string) }) as Promise<number>,
);
const decrby = redisCommand(
  "decrby",
  3,
  true,
  (r, [key, by]) => r.call("decr", { key, by: integerArg(by as string) }) as Promise<number>,
);

const strlen = redisCommand("strlen", 2, false, async (r, [key]) => {
  const value = await stringOf(r, key as string);
  return value === null ? 0 : Buffer.byteLength(value);
});

/** GETRANGE over the UTF-8 bytes of the value, with Redis's index rules. */
const getrange = redisCommand("getrange", 4, false, async (r, [key, from, to]) => {
  let start = integerArg(from as string);
  let end = integerArg(to as string);
  const value = await stringOf(r, key as string);
  const bytes = Buffer.from(value ?? "");
  const length = bytes.length;
  if (start < 0 && end < 0 && start > end) return "";
  if (start < 0) start = length + start;
  if (end < 0) end = length + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= length) end = length - 1;
  if (start > end || length === 0) return "";
  return bytes.subarray(start, end + 1).toString();
});

export const STRING_COMMANDS: readonly RedisCommand[] = [
  get,
  set,
  setex("setex", 1000),
  setex("psetex", 1),
  setnx,
  mget,
  mset,
  incr,
  incrby,
  decr,
  decrby,
  strlen,
  getrange,
];
