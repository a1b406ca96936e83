import { MAX_BATCH, MAX_PATTERN_LENGTH, MAX_TTL_MS } from "../../core/limits.ts";
import type { KeysPage } from "../../core/types.ts";
import { createRecord } from "../../core/types.ts";
import type { Snapshot } from "../../engine/types.ts";
import { integerArg, option } from "./args.ts";
import { type RedisCommand, type RedisContext, redisCommand } from "./command.ts";
import { OK, RedisError, Status, SYNTAX } from "./reply.ts";

// Whole keys: deletion, existence, type, TTLs, listings. Writes and TTL reads map onto the
// native units (delete, exists, expire, ttl, keys).

const del = (name: string) =>
  redisCommand(
    name,
    -2,
    true,
    async (r, keys) => {
      const removed = await Promise.all([...new Set(keys)].map((key) => r.call("delete", { key })));
      return (removed as number[]).reduce((a, b) => a + b, 0);
    },
    "all",
  );

const exists = redisCommand(
  "exists",
  -2,
  false,
  async (r, keys) => {
    const unique = [...new Set(keys)];
    const found = new Set<string>();
    await Promise.all(
      unique.map(async (key) => {
        if (await r.call("exists", { key })) found.add(key);
      }),
    );
    return keys.filter((key) => found.has(key)).length;
  },
  "all",
);

const type = redisCommand(
  "type",
  2,
  false,
  async (r, [key]) => new Status((await r.read(key as string, "none")).kind),
);

/** Milliseconds left, -1 with no expiry, -2 when missing (always from the database). */
function pttlOf(r: RedisContext, key: string): Promise<number> {
  return r.call("ttl", { key }) as Promise<number>;
}

const ttl = redisCommand("ttl", 2, false, async (r, [key]) => {
  const ms = await pttlOf(r, key as string);
  return ms < 0 ? ms : Math.floor((ms + 500) / 1000);
});

const pttl = redisCommand("pttl", 2, false, (r, [key]) => pttlOf(r, key as string));

function expiretime(name: string, unit: number): RedisCommand {
  return redisCommand(name, 2, false, async (r, [key]) => {
    const ms = await pttlOf(r, key as string);
    return ms < 0 ? ms : Math.floor((r.engine.clock.now() + ms) / unit);
  });
}

/**
 * EXPIRE and its kin: the expiry as an instant (`relative`: from now), a key whose expiry is
 * already past is deleted, as Redis does. The NX/XX/GT/LT conditions need the key's TTL read
 * and changed in one step, which the native units do not offer yet.
 */
function expire(name: string, unit: number, relative: boolean): RedisCommand {
  return redisCommand(name, -3, true, async (r, [key, time, ...rest]) => {
    const flags = rest.map(option);
    flags.forEach((flag, i) => {
      if (!CONDITIONS.has(flag)) throw new RedisError(`ERR Unsupported option ${rest[i]}`);
    });
    if (flags.includes("NX") && flags.some((f) => f !== "NX"))
      throw new RedisError("ERR NX and XX, GT or LT options at the same time are not compatible");
    if (flags.includes("GT") && flags.includes("LT"))
      throw new RedisError("ERR GT and LT options at the same time are not compatible");
    const n = integerArg(time as string);
    if (!Number.isSafeInteger(n * unit)) throw new RedisError(`ERR invalid expire time in '${name}' command`);
    const ttlMs = relative ? n * unit : n * unit - r.engine.clock.now();
    if (ttlMs > MAX_TTL_MS) throw new RedisError(`ERR invalid expire time in '${name}' command`);
    const apply = async (t: RedisContext) => {
      if (ttlMs <= 0) return (await t.call("delete", { key })) as number;
      return (await t.call("expire", { key, ttlMs })) ? 1 : 0;
    };
    if (flags.length === 0) return apply(r);
    // NX, XX, GT, LT: the key's TTL is read and changed in one atomic section. No TTL counts as
    // an infinite one, as in Redis.
    return r.atomic([key as string], async (t) => {
      const current = await pttlOf(t, key as string);
      if (current === -2) return 0;
      const persistent = current === -1;
      if (flags.includes("NX") && !persistent) return 0;
      if (flags.includes("XX") && persistent) return 0;
      if (flags.includes("GT") && (persistent || ttlMs <= current)) return 0;
      if (flags.includes("LT") && !persistent && ttlMs >= current) return 0;
      return apply(t);
    });
  });
}

/** A whole key as a section read it: a string, or a hash with every field. */
async function entryOf(r: RedisContext, key: string): Promise<Snapshot> {
  return r.read(key, "all");
}

/** Writes a key's whole state (value or fields, and expiry) over whatever `key` holds. */
async function writeEntry(r: RedisContext, key: string, s: Snapshot): Promise<void> {
  if (s.kind === "string") {
    await r.call("set", { key, value: JSON.parse(s.json), ...r.ttlUntil(s.expiresAt) });
    return;
  }
  await r.call("delete", { key });
  if (s.kind === "none") return;
  const names = [...s.fields.keys()];
  for (let i = 0; i < names.length; i += MAX_BATCH) {
    const fields = createRecord<unknown>();
    for (const name of names.slice(i, i + MAX_BATCH)) fields[name] = JSON.parse(s.fields.get(name) as string);
    await r.call("hset", { key, fields });
  }
  if (s.expiresAt !== null) await r.call("expire", { key, ...r.ttlUntil(s.expiresAt) });
}

const persist = redisCommand("persist", 2, true, (r, [key]) =>
  r.atomic([key as string], async (t) => {
    const s = await entryOf(t, key as string);
    if (s.kind === "none" || s.expiresAt === null) return 0;
    await writeEntry(t, key as string, { ...s, expiresAt: null });
    return 1;
  }),
);

function rename(name: string, onlyIfNew: boolean): RedisCommand {
  return redisCommand(
    name,
    3,
    true,
    (r, [from, to]) =>
      r.atomic([from as string, to as string], async (t) => {
        const s = await entryOf(t, from as string);
        if (s.kind === "none") throw new RedisError("ERR no such key");
        if (onlyIfNew && (await t.read(to as string, "none")).kind !== "none") return 0;
        if (from !== to) {
          await writeEntry(t, to as string, s);
          await t.call("delete", { key: from });
        }
        return onlyIfNew ? 1 : OK;
      }),
    "all",
  );
}

const copy = redisCommand(
  "copy",
  -3,
  true,
  async (r, [from, to, ...rest]) => {
    let replace = false;
    for (let i = 0; i < rest.length; i++) {
      const name = option(rest[i]);
      if (name === "REPLACE") replace = true;
      else if (name === "DB" && rest[i + 1] !== undefined) {
        if (rest[++i] !== "0") throw new RedisError("ERR DB index is out of range");
      } else throw new RedisError(SYNTAX);
    }
    if (from === to) throw new RedisError("ERR source and destination objects are the same");
    return r.atomic([from as string, to as string], async (t) => {
      const s = await entryOf(t, from as string);
      if (s.kind === "none") return 0;
      if (!replace && (await t.read(to as string, "none")).kind !== "none") return 0;
      await writeEntry(t, to as string, s);
      return 1;
    });
  },
  "two",
);

/** Every key, counted page by page (tierkv keeps no running count). */
const dbsize = redisCommand(
  "dbsize",
  1,
  false,
  async (r) => {
    let n = 0;
    for await (const page of pages(r, "*")) n += page.keys.length;
    return n;
  },
  "none",
);

/** RANDOMKEY picks among the first 1,000 keys in byte order. */
const randomkey = redisCommand(
  "randomkey",
  1,
  false,
  async (r) => {
    const page = (await pages(r, "*").next()).value as KeysPage;
    return page.keys.length === 0
      ? null
      : (page.keys[Math.floor(Math.random() * page.keys.length)] as string);
  },
  "none",
);

function flush(name: string): RedisCommand {
  return redisCommand(
    name,
    -1,
    true,
    async (r, args) => {
      if (args.length > 1 || (args.length === 1 && !["ASYNC", "SYNC"].includes(option(args[0]))))
        throw new RedisError(SYNTAX);
      await r.engine.flush();
      return OK;
    },
    "none",
  );
}

const CONDITIONS: ReadonlySet<string> = new Set(["NX", "XX", "GT", "LT"]);

/**
 * Every page of a listing, from the store's own `keys` (the operation the native unit runs),
 * with Redis's glob: `?` and classes match a byte.
 */
async function* pages(
  r: RedisContext,
  pattern: string,
  limit = 1000,
  cursor?: string,
): AsyncGenerator<KeysPage> {
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new RedisError(`ERR the pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  let next: string | null | undefined = cursor;
  do {
    const page = await r.engine.store.keys({ pattern, limit, cursor: next ?? null, glob: "bytes" });
    yield page;
    next = page.cursor;
  } while (next !== null);
}

const keys = redisCommand(
  "keys",
  2,
  false,
  async (r, [pattern]) => {
    const out: string[] = [];
    for await (const page of pages(r, pattern as string)) out.push(...page.keys);
    return out;
  },
  "none",
);

/**
 * SCAN over the native listing: its cursor is the listing's own (opaque, "0" at both ends as in
 * Redis), COUNT is the page size (at most 1,000), TYPE filters the page's keys.
 */
const scan = redisCommand(
  "scan",
  -2,
  false,
  async (r, [cursor, ...rest]) => {
    let pattern = "*";
    let count = 10;
    let kind: string | undefined;
    for (let i = 0; i < rest.length; i += 2) {
      const name = option(rest[i]);
      const value = rest[i + 1];
      if (value === undefined) throw new RedisError(SYNTAX);
      if (name === "MATCH") pattern = value;
      else if (name === "COUNT") {
        count = integerArg(value);
        if (count < 1) throw new RedisError(SYNTAX);
      } else if (name === "TYPE") kind = value.toLowerCase();
      else throw new RedisError(SYNTAX);
    }
    let page: KeysPage;
    try {
      const from = cursor === "0" ? undefined : cursor;
      page = (await pages(r, pattern, Math.min(count, 1000), from).next()).value as KeysPage;
    } catch (error) {
      if ((error as { code?: string }).code === "BAD_REQUEST") throw new RedisError("ERR invalid cursor");
      throw error;
    }
    let found = page.keys;
    if (kind !== undefined && found.length > 0) {
      const snapshots = await r.readMany(found);
      found = found.filter((key) => snapshots.get(key)?.kind === kind);
    }
    return [page.cursor ?? "0", found];
  },
  "none",
);

export const KEY_COMMANDS: readonly RedisCommand[] = [
  del("del"),
  del("unlink"),
  exists,
  type,
  ttl,
  pttl,
  expiretime("expiretime", 1000),
  expiretime("pexpiretime", 1),
  expire("expire", 1000, true),
  expire("pexpire", 1, true),
  expire("expireat", 1000, false),
  expire("pexpireat", 1, false),
  keys,
  scan,
  persist,
  rename("rename", false),
  rename("renamenx", true),
  copy,
  { ...exists, name: "touch" },
  dbsize,
  randomkey,
  flush("flushdb"),
  flush("flushall"),
];
