import { Redis, type RedisOptions } from "ioredis";
import { compareBytes } from "../core/bytes.ts";
import { BadRequestError, KvError, UnavailableError, WrongTypeError } from "../core/errors.ts";
import { escapeGlob } from "../core/glob.ts";
import { decodeCursor, keysLimit, keysPage } from "../core/keys-page.ts";
import { MAX_BATCH } from "../core/limits.ts";
import { randomToken } from "../core/token.ts";
import type { JsonValue } from "../core/types.ts";
import { checkKey, checkValue } from "../core/validate.ts";
import { chunks } from "./kv-backed-store.ts";
import { storeTtl } from "./ttl.ts";
import type { ListOptions, ListPage, Store, StoreOptions } from "./types.ts";

/** Options of `RedisStore`: a connection URL, or a client to share (left open on `close()`). */
export type RedisStoreOptions = StoreOptions & {
  /** Locks live under this prefix (then `keyPrefix`), outside the data namespace (default `tierkv-lock:`). */
  lockPrefix?: string;
} & ({ url: string; redis?: RedisOptions } | { client: Redis });

// Compare-and-delete: only the holder's token releases the lock.
const UNLOCK_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const SCAN_COUNT = 1000;

/**
 * A `Store` on Redis through ioredis. Values are stored as their JSON text (a value that is not
 * JSON, written by another program, reads as a string). `list` scans the namespace and sorts it,
 * so its pages follow the same byte order and cursor rules as every other store; it costs a scan
 * of the namespace per page, which suits namespaces of up to some hundred thousand keys.
 */
export class RedisStore implements Store {
  readonly name = "redis";
  readonly #redis: Redis;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #lockPrefix: string;

  constructor(options: RedisStoreOptions) {
    this.#prefix = options.keyPrefix ?? "";
    this.#lockPrefix = `${options.lockPrefix ?? "tierkv-lock:"}${this.#prefix}`;
    if ("client" in options) {
      this.#redis = options.client;
      this.#owned = false;
    } else {
      this.#redis = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 1, ...options.redis });
      this.#owned = true;
    }
  }

  async get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined> {
    const text = await this.#run(() => this.#redis.get(this.#prefix + key));
    return text === null ? undefined : (decode(text) as T);
  }

  async getMany<T extends JsonValue = JsonValue>(keys: string[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    for (const batch of chunks([...new Set(keys)], MAX_BATCH)) {
      if (batch.length === 0) continue;
      const texts = await this.#run(() => this.#redis.mget(batch.map((k) => this.#prefix + k)));
      batch.forEach((key, i) => {
        const text = texts[i];
        if (text !== null && text !== undefined) out.set(key, decode(text) as T);
      });
    }
    return out;
  }

  async set(key: string, value: JsonValue, ttlMs?: number): Promise<void> {
    const ttl = storeTtl(ttlMs);
    // The same limits as every other store (SPEC §1), though Redis itself would take more.
    checkKey(this.#prefix + key);
    checkValue(value);
    const json = JSON.stringify(value);
    await this.#run(() =>
      ttl === undefined
        ? this.#redis.set(this.#prefix + key, json)
        : this.#redis.set(this.#prefix + key, json, "PX", ttl),
    );
  }

  async setMany(entries: Map<string, JsonValue>, ttlMs?: number): Promise<void> {
    const ttl = storeTtl(ttlMs);
    if (entries.size === 0) return;
    for (const [key, value] of entries) {
      checkKey(this.#prefix + key);
      checkValue(value, `value of ${JSON.stringify(key)}`);
    }
    // MULTI makes the batch all-or-nothing, as `mset` is on tierkv.
    const multi = this.#redis.multi();
    for (const [key, value] of entries) {
      const json = JSON.stringify(value);
      if (ttl === undefined) multi.set(this.#prefix + key, json);
      else multi.set(this.#prefix + key, json, "PX", ttl);
    }
    const results = await this.#run(() => multi.exec());
    const failed = results?.find(([error]) => error !== null)?.[0];
    if (failed) throw toKvError(failed);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#run(() => this.#redis.del(this.#prefix + key))) > 0;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const limit = keysLimit(options.limit);
    const after = decodeCursor(options.cursor);
    const start = this.#prefix + prefix;
    const match = `${escapeGlob(start)}*`;
    const found = new Set<string>();
    let cursor = "0";
    do {
      const [next, keys] = await this.#run(() =>
        this.#redis.scan(cursor, "MATCH", match, "COUNT", SCAN_COUNT),
      );
      for (const key of keys) found.add(key.slice(this.#prefix.length));
      cursor = next;
    } while (cursor !== "0");
    const all = [...found].filter((k) => after === null || compareBytes(k, after) > 0).sort(compareBytes);
    return keysPage(all, limit);
  }

  async clear(): Promise<number> {
    let removed = 0;
    const match = `${escapeGlob(this.#prefix)}*`;
    let cursor = "0";
    do {
      const [next, keys] = await this.#run(() =>
        this.#redis.scan(cursor, "MATCH", match, "COUNT", SCAN_COUNT),
      );
      if (keys.length > 0) removed += await this.#run(() => this.#redis.unlink(...keys));
      cursor = next;
    } while (cursor !== "0");
    return removed;
  }

  async lock(name: string, ttlMs: number): Promise<string | null> {
    const token = randomToken();
    const ok = await this.#run(() => this.#redis.set(this.#lockPrefix + name, token, "PX", ttlMs, "NX"));
    return ok === "OK" ? token : null;
  }

  async unlock(name: string, token: string): Promise<boolean> {
    const n = await this.#run(() => this.#redis.eval(UNLOCK_SCRIPT, 1, this.#lockPrefix + name, token));
    return n === 1;
  }

  async close(): Promise<void> {
    if (this.#owned) this.#redis.disconnect();
  }

  async #run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toKvError(error);
    }
  }
}

/** Creates a `RedisStore`. */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}

function decode(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

function toKvError(error: unknown): KvError {
  if (error instanceof KvError) return error;
  const message = error instanceof Error ? error.message : "";
  if (message.startsWith("WRONGTYPE")) return new WrongTypeError();
  // Redis answered, but refused the command (an ERR reply): a bad argument, not an outage.
  if ((error as { name?: string }).name === "ReplyError") {
    return new BadRequestError(`Redis refused the command: ${message.split("\n")[0]}`, { cause: error });
  }
  // Connection and server failures: the message may hold the host, so it stays in `cause`.
  return new UnavailableError("Redis is unavailable", { cause: error });
}
