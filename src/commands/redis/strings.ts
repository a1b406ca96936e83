import { keyProblem } from "../../core/validate.ts";
import { snapshotGetJson } from "../../engine/snapshot.ts";
import { expireArg, expireAtArg, integerArg, option, pairsArg } from "./args.ts";
import { type RedisCommand, type RedisContext, redisCommand, redisString, redisStringOf } from "./command.ts";
import { addLongDoubles, formatLongDouble, numberOrText, parseLongDouble, ZERO } from "./float.ts";
import { OK, RedisError, SYNTAX, WRONGTYPE } from "./reply.ts";

// Strings and counters. Writes map onto the native units (set, setex, mset, incr, decr); reads
// go through the same L1 the native reads use.

/** A string key's value in the Redis view, or null when missing; WRONGTYPE for a hash. */
async function stringOf(r: RedisContext, key: string): Promise<string | null> {
  const json = snapshotGetJson(await r.read(key, "none"));
  return json === undefined ? null : redisString(json);
}

const get = redisCommand("get", 2, false, async (r, [key]) => {
  // A valid key is read as the native unit reads it, but a missing one answers nil without the
  // unit's NOT_FOUND error, whose stack trace costs more than the read (scripts GET missing keys a lot).
  if (keyProblem(key as string) === undefined) return stringOf(r, key as string);
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
  let get = false;
  let keepTtl = false;
  let expiry: { unit: number; at: boolean; arg: string } | undefined;
  for (let i = 0; i < rest.length; i++) {
    const name = option(rest[i]);
    const next = rest[i + 1];
    if (name === "NX" && !xx) nx = true;
    else if (name === "XX" && !nx) xx = true;
    else if (name === "GET") get = true;
    else if (name === "KEEPTTL" && !expiry) keepTtl = true;
    else if (EXPIRY.has(name) && !expiry && !keepTtl && next !== undefined) {
      expiry = { unit: name.startsWith("EX") ? 1000 : 1, at: name.endsWith("AT"), arg: next };
      i++;
    } else throw new RedisError(SYNTAX);
  }
  let ttlMs: number | undefined;
  if (expiry !== undefined) {
    ttlMs = expiry.at
      ? expireAtArg(expiry.arg, expiry.unit, "set", false) - r.engine.clock.now()
      : expireArg(expiry.arg, expiry.unit, "set");
  }
  const input = {
    key,
    value,
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    ...(nx ? { nx } : {}),
    ...(xx ? { xx } : {}),
  };
  if (!get && !keepTtl && (ttlMs === undefined || ttlMs > 0)) return (await r.call("set", input)) ? OK : null;
  // GET, KEEPTTL and an expiry already past read the key first: one atomic section.
  return r.atomic([key as string], async (t) => {
    const before = await t.read(key as string, "none");
    if (get && before.kind === "hash") throw new RedisError(WRONGTYPE);
    const old = before.kind === "string" ? redisString(before.json) : null;
    const answer = get ? old : OK;
    if ((nx && before.kind !== "none") || (xx && before.kind === "none")) return get ? old : null;
    if (ttlMs !== undefined && ttlMs <= 0) {
      // An expiry already past: Redis stores the value and it is gone at once.
      await t.call("delete", { key });
      return answer;
    }
    const ttl = keepTtl
      ? t.ttlUntil(before.kind === "none" ? null : before.expiresAt)
      : ttlMs !== undefined
        ? { ttlMs }
        : {};
    await t.call("set", { key, value, ...ttl });
    return answer;
  });
});

const EXPIRY: ReadonlySet<string> = new Set(["EX", "PX", "EXAT", "PXAT"]);

/** A string key in a section: its value in the Redis view (null when missing) and its expiry. */
async function stringEntry(
  r: RedisContext,
  key: string,
): Promise<{ value: string | null; expiresAt: number | null }> {
  const s = await r.read(key, "none");
  if (s.kind === "hash") throw new RedisError(WRONGTYPE);
  return s.kind === "none"
    ? { value: null, expiresAt: null }
    : { value: redisString(s.json), expiresAt: s.expiresAt };
}

const getdel = redisCommand("getdel", 2, true, (r, [key]) =>
  r.atomic([key as string], async (t) => {
    const { value } = await stringEntry(t, key as string);
    if (value !== null) await t.call("delete", { key });
    return value;
  }),
);

const getset = redisCommand("getset", 3, true, (r, [key, value]) =>
  r.atomic([key as string], async (t) => {
    const { value: old } = await stringEntry(t, key as string);
    await t.call("set", { key, value });
    return old;
  }),
);

/** GETEX: the value, and its expiry changed (EX, PX, EXAT, PXAT) or removed (PERSIST). */
const getex = redisCommand("getex", -2, true, async (r, [key, ...rest]) => {
  let change: { unit: number; at: boolean; arg: string } | "persist" | undefined;
  for (let i = 0; i < rest.length; i++) {
    const name = option(rest[i]);
    const next = rest[i + 1];
    if (EXPIRY.has(name) && change === undefined && next !== undefined) {
      change = { unit: name.startsWith("EX") ? 1000 : 1, at: name.endsWith("AT"), arg: next };
      i++;
    } else if (name === "PERSIST" && change === undefined) change = "persist";
    else throw new RedisError(SYNTAX);
  }
  let ttlMs: number | undefined;
  if (change !== undefined && change !== "persist") {
    ttlMs = change.at
      ? expireAtArg(change.arg, change.unit, "getex", false) - r.engine.clock.now()
      : expireArg(change.arg, change.unit, "getex");
  }
  return r.atomic([key as string], async (t) => {
    const { value, expiresAt } = await stringEntry(t, key as string);
    if (value === null || change === undefined) return value;
    if (change === "persist") {
      if (expiresAt !== null) await t.call("set", { key, value: await storedValue(t, key as string) });
    } else if ((ttlMs as number) <= 0) await t.call("delete", { key });
    else await t.call("expire", { key, ttlMs });
    return value;
  });
});

/** A string key's stored value (native JSON), for writing it back unchanged. */
async function storedValue(r: RedisContext, key: string): Promise<unknown> {
  const s = await r.read(key, "none");
  return s.kind === "string" ? JSON.parse(s.json) : null;
}

const msetnx = redisCommand(
  "msetnx",
  -3,
  true,
  async (r, args) => {
    const pairs = pairsArg(args, "msetnx");
    const keys = Object.keys(pairs);
    return r.atomic(keys, async (t) => {
      for (const key of keys) if ((await t.read(key, "none")).kind !== "none") return 0;
      await t.call("mset", { pairs });
      return 1;
    });
  },
  "pairs",
);

const append = redisCommand("append", 3, true, (r, [key, suffix]) =>
  r.atomic([key as string], async (t) => {
    const { value, expiresAt } = await stringEntry(t, key as string);
    const next = (value ?? "") + suffix;
    await t.call("set", { key, value: next, ...t.ttlUntil(expiresAt) });
    return Buffer.byteLength(next);
  }),
);

const MAX_STRING_BYTES = 512 * 1024 * 1024;

/** SETRANGE over the UTF-8 bytes; a result that is not UTF-8 text cannot be stored (tierkv keeps text). */
const setrange = redisCommand("setrange", 4, true, async (r, [key, at, patch]) => {
  const offset = integerArg(at as string);
  if (offset < 0) throw new RedisError("ERR offset is out of range");
  const bytes = Buffer.from(patch as string);
  if (offset + bytes.length > MAX_STRING_BYTES)
    throw new RedisError("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  return r.atomic([key as string], async (t) => {
    const { value, expiresAt } = await stringEntry(t, key as string);
    const old = Buffer.from(value ?? "");
    if (bytes.length === 0) return old.length;
    const out = Buffer.alloc(Math.max(old.length, offset + bytes.length));
    old.copy(out);
    bytes.copy(out, offset);
    let next: string;
    try {
      next = new TextDecoder("utf-8", { fatal: true }).decode(out);
    } catch {
      throw new RedisError(
        "ERR SETRANGE would leave bytes that are not UTF-8 text, which tierkv cannot store",
      );
    }
    await t.call("set", { key, value: next, ...t.ttlUntil(expiresAt) });
    return out.length;
  });
});

/** INCRBYFLOAT, checking as Redis does: the key's type, then its value, then the increment. */
const incrbyfloat = redisCommand("incrbyfloat", 3, true, async (r, [key, by]) =>
  r.atomic([key as string], async (t) => {
    const { value, expiresAt } = await stringEntry(t, key as string);
    const current = value === null ? ZERO : parseLongDouble(value);
    const step = parseLongDouble(by as string);
    if (current === undefined || step === undefined) throw new RedisError("ERR value is not a valid float");
    const sum = addLongDoubles(current, step);
    if (sum === undefined) throw new RedisError("ERR increment would produce NaN or Infinity");
    const text = formatLongDouble(sum);
    await t.call("set", { key, value: numberOrText(text), ...t.ttlUntil(expiresAt) });
    return text;
  }),
);

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
    const pairs = pairsArg(args, "mset");
    await r.call("mset", { pairs });
    return OK;
  },
  "pairs",
);

/** Marks a counter command: it calls the native unit, and so the store's `incrBy`, at once. */
function increment(command: RedisCommand): RedisCommand {
  return { ...command, increment: true };
}

const incr = increment(
  redisCommand("incr", 2, true, (r, [key]) => r.call("incr", { key }) as Promise<number>),
);
const decr = increment(
  redisCommand("decr", 2, true, (r, [key]) => r.call("decr", { key }) as Promise<number>),
);
const incrby = increment(
  redisCommand(
    "incrby",
    3,
    true,
    (r, [key, by]) => r.call("incr", { key, by: integerArg(by as string) }) as Promise<number>,
  ),
);
const decrby = increment(
  redisCommand(
    "decrby",
    3,
    true,
    (r, [key, by]) => r.call("decr", { key, by: integerArg(by as string) }) as Promise<number>,
  ),
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
  getdel,
  getset,
  getex,
  msetnx,
  append,
  setrange,
  incrbyfloat,
];
