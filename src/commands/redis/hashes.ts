import { KvError } from "../../core/errors.ts";
import { compileGlob } from "../../core/glob.ts";
import { keyProblem } from "../../core/validate.ts";
import type { Snapshot } from "../../engine/types.ts";
import { integerArg, option, pairsArg } from "./args.ts";
import { type RedisCommand, type RedisContext, redisCommand, redisString } from "./command.ts";
import { addLongDoubles, formatLongDouble, numberOrText, parseLongDouble, ZERO } from "./float.ts";
import { OK, RedisError, SYNTAX, WRONGTYPE } from "./reply.ts";

// Hashes. Writes map onto the native units (hset, hdel, hincrby); reads go through the same L1.

/** A key or field as the native API admits it, or Redis's `ERR` with the reason. */
function checked(name: string, what: "key" | "field"): string {
  const problem = keyProblem(name);
  if (problem !== undefined) throw new RedisError(`ERR ${what} ${problem}`);
  return name;
}

/** The hash's fields (the named ones, or all), as JSON texts; WRONGTYPE for a string. */
async function fieldsOf(
  r: RedisContext,
  key: string,
  fields: string[] | "all",
): Promise<Map<string, string | undefined>> {
  const snapshot: Snapshot = await r.read(
    checked(key, "key"),
    fields === "all" ? "all" : fields.map((f) => checked(f, "field")),
  );
  if (snapshot.kind === "string") throw new RedisError(WRONGTYPE);
  return snapshot.kind === "none" ? new Map() : snapshot.fields;
}

function hset(name: string, reply: "count" | "ok"): RedisCommand {
  return redisCommand(name, -4, true, async (r, [key, ...args]) => {
    const fields = pairsArg(args, name);
    const created = (await r.call("hset", { key, fields })) as number;
    return reply === "ok" ? OK : created;
  });
}

const hget = redisCommand("hget", 3, false, async (r, [key, field]) => {
  const json = (await fieldsOf(r, key as string, [field as string])).get(field as string);
  return json === undefined ? null : redisString(json);
});

const hmget = redisCommand("hmget", -3, false, async (r, [key, ...fields]) => {
  const found = await fieldsOf(r, key as string, [...new Set(fields)]);
  return fields.map((field) => {
    const json = found.get(field);
    return json === undefined ? null : redisString(json);
  });
});

const hgetall = redisCommand("hgetall", 2, false, async (r, [key]) => {
  const out: string[] = [];
  for (const [field, json] of await fieldsOf(r, key as string, "all"))
    if (json !== undefined) out.push(field, redisString(json));
  return out;
});

function hlist(name: string, pick: (field: string, value: string) => string | number): RedisCommand {
  return redisCommand(name, 2, false, async (r, [key]) => {
    const out: (string | number)[] = [];
    for (const [field, json] of await fieldsOf(r, key as string, "all"))
      if (json !== undefined) out.push(pick(field, redisString(json)));
    return out;
  });
}

const hlen = redisCommand("hlen", 2, false, async (r, [key]) => {
  let n = 0;
  for (const json of (await fieldsOf(r, key as string, "all")).values()) if (json !== undefined) n++;
  return n;
});

const hexists = redisCommand("hexists", 3, false, async (r, [key, field]) =>
  (await fieldsOf(r, key as string, [field as string])).get(field as string) === undefined ? 0 : 1,
);

const hstrlen = redisCommand("hstrlen", 3, false, async (r, [key, field]) => {
  const json = (await fieldsOf(r, key as string, [field as string])).get(field as string);
  return json === undefined ? 0 : Buffer.byteLength(redisString(json));
});

const hdel = redisCommand(
  "hdel",
  -3,
  true,
  (r, [key, ...fields]) => r.call("hdel", { key, fields }) as Promise<number>,
);

const hincrby = redisCommand("hincrby", 4, true, async (r, [key, field, by]) => {
  const step = integerArg(by as string);
  try {
    return (await r.call("hincrby", { key, field, by: step })) as number;
  } catch (error) {
    if (error instanceof KvError && error.code === "NOT_INTEGER")
      throw new RedisError("ERR hash value is not an integer");
    throw error;
  }
});

const hsetnx = redisCommand("hsetnx", 4, true, (r, [key, field, value]) =>
  r.atomic([key as string], async (t) => {
    if ((await fieldsOf(t, key as string, [field as string])).get(field as string) !== undefined) return 0;
    await t.call("hset", { key, fields: { [field as string]: value } });
    return 1;
  }),
);

const hincrbyfloat = redisCommand("hincrbyfloat", 4, true, async (r, [key, field, by]) => {
  const step = parseLongDouble(by as string);
  if (step === undefined) throw new RedisError("ERR value is not a valid float");
  return r.atomic([key as string], async (t) => {
    const json = (await fieldsOf(t, key as string, [field as string])).get(field as string);
    const current = json === undefined ? ZERO : parseLongDouble(redisString(json));
    if (current === undefined) throw new RedisError("ERR hash value is not a float");
    const sum = addLongDoubles(current, step);
    if (sum === undefined) throw new RedisError("ERR increment would produce NaN or Infinity");
    const text = formatLongDouble(sum);
    await t.call("hset", { key, fields: { [field as string]: numberOrText(text) } });
    return text;
  });
});

/** HSCAN answers every matching field at once, with cursor 0 (COUNT is a hint in Redis too). */
const hscan = redisCommand("hscan", -3, false, async (r, [key, cursor, ...rest]) => {
  if (!/^[0-9]+$/.test(cursor as string)) throw new RedisError("ERR invalid cursor");
  let pattern = "*";
  let noValues = false;
  for (let i = 0; i < rest.length; i++) {
    const name = option(rest[i]);
    const value = rest[i + 1];
    if (name === "MATCH" && value !== undefined) pattern = rest[++i] as string;
    else if (name === "COUNT" && value !== undefined) {
      if (integerArg(rest[++i] as string) < 1) throw new RedisError(SYNTAX);
    } else if (name === "NOVALUES") noValues = true;
    else throw new RedisError(SYNTAX);
  }
  const glob = compileGlob(pattern, "bytes");
  const out: string[] = [];
  for (const [field, json] of await fieldsOf(r, key as string, "all")) {
    if (json === undefined || !glob.test(field)) continue;
    out.push(field);
    if (!noValues) out.push(redisString(json));
  }
  return ["0", out];
});

/** HRANDFIELD: one field, or `count` distinct ones (a negative count may repeat), WITHVALUES. */
const hrandfield = redisCommand("hrandfield", -2, false, async (r, [key, count, ...rest]) => {
  const withValues = rest.length === 1 && option(rest[0]) === "WITHVALUES";
  if (rest.length > 1 || (rest.length === 1 && !withValues)) throw new RedisError(SYNTAX);
  const n = count === undefined ? undefined : integerArg(count);
  const entries = [...(await fieldsOf(r, key as string, "all"))].filter(([, json]) => json !== undefined) as [
    string,
    string,
  ][];
  if (n === undefined) {
    const one = entries[Math.floor(Math.random() * entries.length)];
    return one === undefined ? null : one[0];
  }
  let picked: [string, string][];
  if (n >= 0) {
    picked = [...entries];
    for (let i = picked.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [picked[i], picked[j]] = [picked[j] as [string, string], picked[i] as [string, string]];
    }
    picked = picked.slice(0, n);
  } else {
    picked =
      entries.length === 0
        ? []
        : Array.from(
            { length: -n },
            () => entries[Math.floor(Math.random() * entries.length)] as [string, string],
          );
  }
  return picked.flatMap(([field, json]) => (withValues ? [field, redisString(json)] : [field]));
});

export const HASH_COMMANDS: readonly RedisCommand[] = [
  hset("hset", "count"),
  hset("hmset", "ok"),
  hget,
  hmget,
  hgetall,
  hlist("hkeys", (field) => field),
  hlist("hvals", (_, value) => value),
  hlen,
  hexists,
  hstrlen,
  hdel,
  hincrby,
  hsetnx,
  hincrbyfloat,
  hscan,
  hrandfield,
];
