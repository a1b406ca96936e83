import { BASE_PATH, type EndpointName, type EndpointSpec, NATIVE_API } from "../core/api.ts";
import {
  InternalError,
  KvError,
  LockBusyError,
  LockLostError,
  NotFoundError,
  UnavailableError,
} from "../core/errors.ts";
import {
  formatSyncToken,
  mergeSyncTokens,
  NATIVE_SYNC_HEADER,
  parseSyncToken,
  type SyncToken,
} from "../core/sync-token.ts";
import type { JsonValue, KeysOptions, KeysPage, LockResult, SetOptions } from "../core/types.ts";
import { toJson } from "../core/validate.ts";
import { errorFromEnvelope } from "./errors.ts";

const MAX_TIMER_MS = 2_147_483_647;

/** Options of `createClient`. */
export interface ClientOptions {
  /** The server's origin (`https://kv.example.com`) or its API base (`…/api/kv`). */
  url: string;
  /** `KV_TOKEN` (or `KV_READONLY_TOKEN` for a reader); leave out for an anonymous loopback server. */
  token?: string;
  /** The `fetch` to use; the global one when absent (inject one to test without a network). */
  fetch?: typeof fetch;
  /** Abort each attempt after this many milliseconds (default 10,000). */
  timeoutMs?: number;
  /** Extra attempts for an idempotent operation after a network error, timeout or 503 (default 2). */
  retries?: number;
  /** First backoff delay between attempts; it doubles each time, with jitter (default 50). */
  backoffMs?: number;
  /** Send `Cache-Control: no-cache` on reads, so the server skips its L1 cache (default false). */
  noCache?: boolean;
  /**
   * Read your own writes on any instance (SPEC §8): keep the sync token the server answers
   * with, and send it back with every request (default true).
   */
  readYourWrites?: boolean;
}

/** Options of `withLock`. */
export interface WithLockOptions {
  /** Keep trying to acquire for this long before failing with `LockBusyError` (default 0: one try). */
  waitMs?: number;
  /** Extend the lock this often while the callback runs (default a third of its TTL). */
  extendEveryMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 2;
const DEFAULT_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2_000;

/**
 * The tierkv client over HTTP: the operations of `KvStore` with the same names and results,
 * except locks, which the client holds for you (see `lock`). Errors are the `KvError`
 * subclasses of `src/core/errors.ts`, by the envelope's code; a network failure or timeout is an
 * `UnavailableError` whose `cause` is the underlying error.
 */
export class KvClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #noCache: boolean;
  readonly #readYourWrites: boolean;
  /** The latest point of the write history this client has seen (SPEC §8). */
  #sync: SyncToken | undefined;
  /** Tokens of the locks this client holds, by lock name: never exposed in errors or logs. */
  readonly #held = new Map<string, string>();

  constructor(options: ClientOptions) {
    const base = options.url.replace(/\/+$/, "");
    this.#base = base.endsWith(BASE_PATH) ? base : `${base}${BASE_PATH}`;
    this.#headers = { accept: "application/json" };
    if (options.token !== undefined && options.token !== "") {
      this.#headers.authorization = `Bearer ${options.token}`;
    }
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#retries = options.retries ?? DEFAULT_RETRIES;
    this.#backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.#noCache = options.noCache ?? false;
    this.#readYourWrites = options.readYourWrites ?? true;
  }

  /**
   * The sync token this client sends (SPEC §8): pass it to another client, in another process
   * say, so that its reads see this one's writes. Setting it merges it with the client's own.
   */
  get syncToken(): string | undefined {
    return this.#sync === undefined ? undefined : formatSyncToken(this.#sync);
  }

  set syncToken(token: string | undefined) {
    this.#sync = mergeSyncTokens(this.#sync, parseSyncToken(token));
  }

  /**
   * The value of a key, or `undefined` when it is missing (a stored JSON `null` reads as
   * `null`). `T` is asserted, not checked.
   * @see https://redis.io/commands/get
   */
  async get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined> {
    return this.#orUndefined<T>("get", { key });
  }

  /** Like `get`, but a missing key rejects with `NotFoundError`. */
  async getOrThrow<T extends JsonValue = JsonValue>(key: string): Promise<T> {
    return this.#call<T>("get", { key });
  }

  /**
   * Stores a value, replacing the key of any type; `false` when `nx`/`xx` prevented the write.
   * @see https://redis.io/commands/set
   */
  async set(key: string, value: JsonValue, options: SetOptions = {}): Promise<boolean> {
    return this.#call<boolean>("set", { key, value, ...options });
  }

  /**
   * Stores a value that expires after `ttlMs` milliseconds.
   * @see https://redis.io/commands/psetex
   */
  async setEx(key: string, value: JsonValue, ttlMs: number): Promise<true> {
    return this.#call<true>("setex", { key, value, ttlMs });
  }

  /**
   * Deletes a key of either type; the number of keys removed (0 or 1).
   * @see https://redis.io/commands/del
   */
  async delete(key: string): Promise<number> {
    return this.#call<number>("delete", { key });
  }

  /** @see https://redis.io/commands/exists */
  async exists(key: string): Promise<boolean> {
    return this.#call<boolean>("exists", { key });
  }

  /**
   * Remaining milliseconds; `-1` when the key has no expiry, `-2` when it is missing.
   * @see https://redis.io/commands/pttl
   */
  async ttl(key: string): Promise<number> {
    return this.#call<number>("ttl", { key });
  }

  /**
   * Sets a key's TTL; `true` if the key existed.
   * @see https://redis.io/commands/pexpire
   */
  async expire(key: string, ttlMs: number): Promise<boolean> {
    return this.#call<boolean>("expire", { key, ttlMs });
  }

  /** @see https://redis.io/commands/incr */
  async incr(key: string): Promise<number> {
    return this.#call<number>("incr", { key });
  }

  /** @see https://redis.io/commands/incrby */
  async incrBy(key: string, by: number): Promise<number> {
    return this.#call<number>("incr", { key, by });
  }

  /** @see https://redis.io/commands/decrby */
  async decr(key: string, by = 1): Promise<number> {
    return this.#call<number>("decr", { key, by });
  }

  /**
   * Sets hash fields, as `hSet(key, { f: v })` or `hSet(key, "f", v)`; answers how many were new.
   * @see https://redis.io/commands/hset
   */
  async hSet(key: string, fields: Record<string, JsonValue>): Promise<number>;
  async hSet(key: string, field: string, value: JsonValue): Promise<number>;
  async hSet(
    key: string,
    fieldsOrField: Record<string, JsonValue> | string,
    value?: JsonValue,
  ): Promise<number> {
    const body =
      typeof fieldsOrField === "string"
        ? { key, field: fieldsOrField, value: value ?? null }
        : { key, fields: fieldsOrField };
    return this.#call<number>("hset", body);
  }

  /**
   * A hash field's value, or `undefined` when the key or field is missing.
   * @see https://redis.io/commands/hget
   */
  async hGet<T extends JsonValue = JsonValue>(key: string, field: string): Promise<T | undefined> {
    return this.#orUndefined<T>("hget", { key, field });
  }

  /**
   * All fields of a hash; `{}` when the key is missing.
   * @see https://redis.io/commands/hgetall
   */
  async hGetAll<T extends JsonValue = JsonValue>(key: string): Promise<Record<string, T>> {
    const fields = await this.#call<Record<string, T>>("hgetall", { key });
    return toRecord(fields);
  }

  /** @see https://redis.io/commands/hdel */
  async hDel(key: string, fields: string[]): Promise<number> {
    return this.#call<number>("hdel", { key, fields });
  }

  /** @see https://redis.io/commands/hincrby */
  async hIncrBy(key: string, field: string, by: number): Promise<number> {
    return this.#call<number>("hincrby", { key, field, by });
  }

  /**
   * Writes all pairs or none, each replacing the key's type and TTL.
   * @see https://redis.io/commands/mset
   */
  async mSet(pairs: Record<string, JsonValue>, options: { ttlMs?: number } = {}): Promise<true> {
    return this.#call<true>("mset", { pairs, ...options });
  }

  /**
   * The keys found among `keys` (missing keys and hashes are left out).
   * @see https://redis.io/commands/mget
   */
  async mGet<T extends JsonValue = JsonValue>(keys: string[]): Promise<Record<string, T>> {
    const found = await this.#call<Record<string, T>>("mget", { keys });
    return toRecord(found);
  }

  /**
   * One page of the keys matching a Redis glob, in byte order; pass `cursor` back for the next.
   * @see https://redis.io/commands/scan
   */
  async keys(options: KeysOptions = {}): Promise<KeysPage> {
    const query = {
      pattern: options.pattern,
      limit: options.limit,
      cursor: options.cursor ?? undefined,
    };
    return this.#call<KeysPage>("keys", query);
  }

  /**
   * Tries once to acquire the lock `key` for `ttlMs`; `true` when this client now holds it.
   * The client keeps the token, so `unlock(key)` and `extend(key, ttlMs)` need none and can
   * only ever release or extend a lock this client acquired.
   * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
   */
  async lock(key: string, ttlMs: number): Promise<boolean> {
    const result = await this.tryLock(key, ttlMs);
    if (result.acquired && result.token !== null) this.#held.set(key, result.token);
    return result.acquired;
  }

  /** Releases a lock this client holds; `false` (and no request) when it holds none. */
  async unlock(key: string): Promise<boolean> {
    const token = this.#held.get(key);
    if (token === undefined) return false;
    const released = await this.unlockWithToken(key, token);
    // Released or already gone (expired, taken over): either way the token is worthless now.
    if (this.#held.get(key) === token) this.#held.delete(key);
    return released;
  }

  /** Resets the TTL of a lock this client holds; `false` when it holds it no longer. */
  async extend(key: string, ttlMs: number): Promise<boolean> {
    const token = this.#held.get(key);
    if (token === undefined) return false;
    const extended = await this.extendWithToken(key, token, ttlMs);
    if (!extended && this.#held.get(key) === token) this.#held.delete(key);
    return extended;
  }

  /** Whether this client believes it holds the lock (it may have expired on the server since). */
  holdsLock(key: string): boolean {
    return this.#held.has(key);
  }

  /** The raw `/lock` call: the caller keeps the token (for callers sharing one client). */
  async tryLock(key: string, ttlMs: number): Promise<LockResult> {
    // Not retried (NATIVE_API): a lost response would leave a lock acquired with a token nobody knows.
    return this.#call<LockResult>("lock", { key, ttlMs });
  }

  /** The raw `/unlock` call with an explicit token. */
  async unlockWithToken(key: string, token: string): Promise<boolean> {
    return this.#call<boolean>("unlock", { key, token });
  }

  /** The raw `/extend` call with an explicit token. */
  async extendWithToken(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.#call<boolean>("extend", { key, token, ttlMs });
  }

  /**
   * Runs `fn` while holding the lock `key`: extends it periodically while `fn` runs and always
   * releases it afterwards. Rejects with `LockBusyError` (without running `fn`) when the lock
   * stays taken for `waitMs`. `fn` receives a signal that aborts with `LockLostError` if the
   * lock could not be kept.
   */
  async withLock<R>(
    key: string,
    ttlMs: number,
    fn: (signal: AbortSignal) => Promise<R>,
    options: WithLockOptions = {},
  ): Promise<R> {
    const token = await this.#acquire(key, ttlMs, options.waitMs ?? 0);
    const lost = new AbortController();
    let lastKept = Date.now();
    let pending: Promise<void> = Promise.resolve();
    const timer = setInterval(
      () => {
        pending = this.extendWithToken(key, token, ttlMs).then(
          (kept) => {
            if (kept) lastKept = Date.now();
            else lost.abort(new LockLostError(key));
          },
          () => {
            // A transient failure: the lock is only lost once its TTL has run out unextended.
            if (Date.now() - lastKept >= ttlMs) lost.abort(new LockLostError(key));
          },
        );
      },
      // Timers take at most 2^31−1 ms; a longer delay would fire every millisecond instead.
      Math.min(MAX_TIMER_MS, Math.max(1, options.extendEveryMs ?? Math.floor(ttlMs / 3))),
    );
    try {
      return await fn(lost.signal);
    } finally {
      clearInterval(timer);
      await pending;
      // A failed release is harmless: the lock expires at its TTL. It must not hide fn's outcome.
      await this.unlockWithToken(key, token).catch(() => false);
    }
  }

  /** Resolves when the server and its database answer (`GET /health`). */
  async ping(): Promise<void> {
    await this.#call("health", {});
  }

  /** Forgets the lock tokens this client holds; the locks themselves expire at their TTL. */
  async close(): Promise<void> {
    this.#held.clear();
  }

  async #acquire(key: string, ttlMs: number, waitMs: number): Promise<string> {
    const deadline = Date.now() + waitMs;
    for (let delay = 25; ; delay = Math.min(delay * 2, 1_000)) {
      const result = await this.tryLock(key, ttlMs);
      if (result.acquired && result.token !== null) return result.token;
      if (Date.now() + delay > deadline) throw new LockBusyError(key);
      await sleep(delay);
    }
  }

  async #orUndefined<T>(name: EndpointName, input: Record<string, unknown>): Promise<T | undefined> {
    try {
      return await this.#call<T>(name, input);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /** Calls an endpoint the way its `NATIVE_API` row says: method, where the input goes, retries. */
  async #call<T>(name: EndpointName, input: Record<string, unknown>): Promise<T> {
    const spec: EndpointSpec = NATIVE_API[name];
    const path = `/${name}`;
    const url = new URL(`${this.#base}${path}`);
    const headers: Record<string, string> = { ...this.#headers };
    if (spec.cacheable && this.#noCache) headers["cache-control"] = "no-cache";
    let body: string | undefined;
    if (spec.method === "POST") {
      headers["content-type"] = "application/json";
      body = toJson(input, "the request");
    } else if (!spec.public) {
      for (const [param, value] of Object.entries(input)) {
        if (value !== undefined) url.searchParams.set(param, String(value));
      }
    }
    const retrySafe = typeof spec.retrySafe === "function" ? spec.retrySafe(input) : spec.retrySafe;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt<T>(spec.method, path, url, headers, body);
      } catch (error) {
        const retryable = retrySafe && error instanceof UnavailableError;
        if (!retryable || attempt >= this.#retries) throw error;
        const delay = Math.min(this.#backoffMs * 2 ** attempt, MAX_BACKOFF_MS);
        await sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  }

  async #attempt<T>(
    method: EndpointSpec["method"],
    path: string,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<T> {
    if (this.#sync !== undefined && this.#readYourWrites) {
      headers = { ...headers, [NATIVE_SYNC_HEADER]: formatSyncToken(this.#sync) };
    }
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await this.#fetch(url, {
        method,
        headers,
        body,
        signal: controller.signal,
      });
      status = response.status;
      if (this.#readYourWrites) {
        this.#sync = mergeSyncTokens(this.#sync, parseSyncToken(response.headers.get(NATIVE_SYNC_HEADER)));
      }
      text = await response.text();
    } catch (error) {
      // Messages name the path only: the URL's origin and the token stay out of errors.
      if (timedOut) {
        throw new UnavailableError(`${path} timed out after ${this.#timeoutMs} ms`, { cause: error });
      }
      throw new UnavailableError(`could not reach the tierkv server for ${path}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    let parsed: unknown;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (status >= 200 && status < 300) {
      if (parsed !== null && typeof parsed === "object" && "result" in parsed) return parsed.result as T;
      throw new InternalError(`${path} answered without a result envelope`);
    }
    throw errorFromEnvelope(status, parsed);
  }
}

/** Creates a tierkv client for the server at `options.url`. */
export function createClient(options: ClientOptions): KvClient {
  return new KvClient(options);
}

/** Whether an error came from tierkv (the server or the client), as opposed to a bug. */
export function isKvError(error: unknown): error is KvError {
  return error instanceof KvError;
}

// JSON.parse makes `__proto__` an own property already; copying into a null-prototype object
// keeps it one when callers spread or index the result.
function toRecord<T>(value: Record<string, T>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [k, v] of Object.entries(value)) out[k] = v;
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
