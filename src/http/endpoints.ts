import { NotFoundError } from "../errors.ts";
import type { CachedStore } from "../store/cached-store.ts";
import { snapshotGet, snapshotHGet, snapshotHGetAll, snapshotsMGet } from "../store/snapshot.ts";
import type { FieldSelection, JsonValue, KvStore, Snapshot, SnapshotSource } from "../store/types.ts";
import type { parseInput, SCHEMAS } from "./input.ts";

/** The store an endpoint works on. */
export type EndpointStore = KvStore & SnapshotSource;

/** What a handler answers: the `result`, and for cacheable reads whether L1 served it. */
export interface Outcome {
  result: unknown;
  cache?: "HIT" | "MISS";
}

/** One endpoint of SPEC §3. */
export interface Endpoint {
  method: "GET" | "POST" | "DELETE";
  /** Whether the read-only token may call it. */
  read: boolean;
  run(store: EndpointStore, input: unknown, noCache: boolean): Promise<Outcome>;
}

type Name = keyof typeof SCHEMAS;

function isCached(store: EndpointStore): store is CachedStore & EndpointStore {
  return typeof (store as Partial<CachedStore>).lookup === "function";
}

async function lookup(store: EndpointStore, key: string, fields: FieldSelection, noCache: boolean) {
  if (isCached(store)) return store.lookup(key, fields, { noCache });
  return { value: await store.inspect(key, fields), hit: false };
}

async function lookupMany(store: EndpointStore, keys: string[], noCache: boolean) {
  if (isCached(store)) return store.lookupMany(keys, { noCache });
  return { value: await store.inspectMany(keys), hit: false };
}

function cacheHeader(hit: boolean): "HIT" | "MISS" {
  return hit ? "HIT" : "MISS";
}

/** A cacheable read: answers from a snapshot, with its cache outcome even when it is a 404. */
function read(
  fields: (input: { key: string; field?: string }) => FieldSelection,
  answer: (s: Snapshot, input: { key: string; field?: string }) => unknown,
) {
  return async (store: EndpointStore, raw: unknown, noCache: boolean): Promise<Outcome> => {
    const input = raw as { key: string; field?: string };
    const { value, hit } = await lookup(store, input.key, fields(input), noCache);
    try {
      return { result: answer(value, input), cache: cacheHeader(hit) };
    } catch (error) {
      Object.assign(error as object, { cache: cacheHeader(hit) });
      throw error;
    }
  };
}

function found(value: JsonValue | undefined, what: string): JsonValue {
  if (value === undefined) throw new NotFoundError(`${what} not found`);
  return value;
}

/** Every endpoint, by the last segment of its path. */
export const ENDPOINTS: Record<Name, Endpoint> = {
  set: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { key, value, ...options } = input as ReturnType<typeof parseInput<"set">>;
      return { result: await store.set(key, value, options) };
    },
  },
  setex: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { key, value, ttlMs } = input as ReturnType<typeof parseInput<"setex">>;
      return { result: await store.setEx(key, value, ttlMs) };
    },
  },
  get: {
    method: "GET",
    read: true,
    run: read(
      () => "none",
      (s) => found(snapshotGet(s), "key"),
    ),
  },
  delete: {
    method: "DELETE",
    read: false,
    run: async (store, input) => ({ result: await store.delete((input as { key: string }).key) }),
  },
  exists: {
    method: "GET",
    read: true,
    run: read(
      () => "none",
      (s) => s.kind !== "none",
    ),
  },
  ttl: {
    method: "GET",
    read: true,
    run: async (store, input) => ({ result: await store.ttl((input as { key: string }).key) }),
  },
  expire: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { key, ttlMs } = input as ReturnType<typeof parseInput<"expire">>;
      return { result: await store.expire(key, ttlMs) };
    },
  },
  incr: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { key, by } = input as ReturnType<typeof parseInput<"incr">>;
      return { result: await store.incrBy(key, by ?? 1) };
    },
  },
  decr: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { key, by } = input as ReturnType<typeof parseInput<"decr">>;
      return { result: await store.incrBy(key, -(by ?? 1)) };
    },
  },
  hset: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { key, fields } = input as ReturnType<typeof parseInput<"hset">>;
      return { result: await store.hSet(key, fields) };
    },
  },
  hget: {
    method: "GET",
    read: true,
    run: read(
      (i) => [i.field as string],
      (s, i) => found(snapshotHGet(s, i.field as string), s.kind === "none" ? "key" : "field"),
    ),
  },
  hgetall: {
    method: "GET",
    read: true,
    run: read(
      () => "all",
      (s) => snapshotHGetAll(s),
    ),
  },
  hdel: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { key, fields } = input as ReturnType<typeof parseInput<"hdel">>;
      return { result: await store.hDel(key, fields) };
    },
  },
  hincrby: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { key, field, by } = input as ReturnType<typeof parseInput<"hincrby">>;
      return { result: await store.hIncrBy(key, field, by) };
    },
  },
  mset: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { pairs, ttlMs } = input as ReturnType<typeof parseInput<"mset">>;
      return { result: await store.mSet(pairs, ttlMs === undefined ? {} : { ttlMs }) };
    },
  },
  mget: {
    method: "POST",
    read: true,
    run: async (store, input, noCache) => {
      const { keys } = input as ReturnType<typeof parseInput<"mget">>;
      const unique = [...new Set(keys)];
      const { value, hit } = await lookupMany(store, unique, noCache);
      return { result: snapshotsMGet(unique, value), cache: cacheHeader(hit) };
    },
  },
  keys: {
    method: "GET",
    read: true,
    run: async (store, input) => {
      const { pattern, limit, cursor } = input as ReturnType<typeof parseInput<"keys">>;
      return {
        result: await store.keys({
          ...(pattern !== undefined ? { pattern } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        }),
      };
    },
  },
  lock: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { key, ttlMs } = input as ReturnType<typeof parseInput<"lock">>;
      return { result: await store.lock(key, ttlMs) };
    },
  },
  unlock: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { key, token } = input as ReturnType<typeof parseInput<"unlock">>;
      return { result: await store.unlock(key, token) };
    },
  },
  extend: {
    method: "POST",
    read: false,
    run: async (store, input) => {
      const { key, token, ttlMs } = input as ReturnType<typeof parseInput<"extend">>;
      return { result: await store.extend(key, token, ttlMs) };
    },
  },
  health: {
    method: "GET",
    read: true,
    run: async (store) => {
      await store.ping();
      return { result: { status: "ok", db: store.kind } };
    },
  },
};

/** The names of all endpoints. */
export const ENDPOINT_NAMES = Object.keys(ENDPOINTS) as Name[];
export type EndpointName = Name;
