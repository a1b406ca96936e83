import { KvError } from "../../core/errors.ts";
import { createRecord } from "../../core/types.ts";
import { keyProblem } from "../../core/validate.ts";
import type { Snapshot } from "../../engine/types.ts";
import { integerArg } from "./args.ts";
import { type RedisCommand, type RedisContext, redisCommand, redisString } from "./command.ts";
import { OK, RedisError, WRONGTYPE } from "./reply.ts";

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
    if (args.length % 2 !== 0) throw new RedisError(`ERR wrong number of arguments for '${name}' command`);
    const fields = createRecord<string>();
    for (let i = 0; i < args.length; i += 2) fields[args[i] as string] = args[i + 1] as string;
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
];
