import { LruMap } from "../core/lru.ts";
import { type Clock, type JsonValue, SYSTEM_CLOCK } from "../core/types.ts";
import type { Store } from "../stores/types.ts";

/** Loads one key from the source of truth; `undefined` means "not found". */
export type Fallback<T extends JsonValue> = (key: string) => Promise<T | undefined>;

/**
 * Loads several keys from the source of truth in one call. Keys left out of the answer (or
 * mapped to `undefined`) are "not found"; keys that were not asked for are ignored.
 */
export type BatchFallback<T extends JsonValue> = (
  keys: string[],
) => Promise<Map<string, T | undefined> | Record<string, T | undefined>>;

/** Options of one `get`/`mget`/`mrefresh` call, overriding the cacher's defaults. */
export interface CallOptions {
  /** How long a loaded value stays fresh; `0` means forever. */
  ttlMs?: number;
  /** How long a "not found" stays cached; `0` means it is not cached. */
  notFoundTtlMs?: number;
}

/** Stampede protection across processes, through the store's own lock. */
export interface DistributedOptions {
  /** TTL of the per-key load lock; a crashed loader blocks others at most this long (default 10,000). */
  lockTtlMs?: number;
  /** How long a waiter polls before loading on its own (default: `lockTtlMs`). */
  waitMs?: number;
  /** First poll delay; it doubles up to `maxPollMs`, with jitter (default 10). */
  pollMs?: number;
  /** Longest poll delay (default 250). */
  maxPollMs?: number;
}

/** Serving a stale value instead of an error, within a bounded age. */
export interface GraceOptions {
  /** How long past its expiry a value may still be served when the fallback or the store fails. */
  maxAgeMs: number;
  /** How many last values this process keeps for when the store itself fails (default 1,000). */
  maxEntries?: number;
}

/** Options of `createCacher`. */
export interface CacherOptions extends CallOptions {
  /** Lock, re-check the store, load, unlock: one fallback call per key across every instance. */
  distributed?: boolean | DistributedOptions;
  grace?: GraceOptions;
  /** Time source of freshness and grace (inject a fake clock in tests). */
  clock?: Clock;
  /** Told about store failures the cacher survives (it then loads from the fallback or serves grace). */
  onError?: (error: unknown, context: { operation: string; keys: string[] }) => void;
}

/** A read-through cache over a `Store`. */
export interface Cacher {
  /** The cached value of `key`, loading it through `fallback` when missing or stale. */
  get<T extends JsonValue>(key: string, fallback: Fallback<T>, options?: CallOptions): Promise<T | undefined>;
  /**
   * The values of `keys` (only those found), calling `batchFallback` at most once, with exactly
   * the keys that were neither cached nor already being loaded.
   */
  mget<T extends JsonValue>(
    keys: string[],
    batchFallback: BatchFallback<T>,
    options?: CallOptions,
  ): Promise<Map<string, T>>;
  /** Drops cached entries (and this process's grace copies), so the next read loads afresh. */
  mdelete(keys: string[]): Promise<void>;
  /** Loads `keys` through `batchFallback` now, whatever is cached, and caches the result. */
  mrefresh<T extends JsonValue>(
    keys: string[],
    batchFallback: BatchFallback<T>,
    options?: CallOptions,
  ): Promise<Map<string, T>>;
}

/** What the cacher keeps under a key: a value or "not found", and when it stops being fresh. */
interface Envelope {
  $cacher: 1;
  /** The value; absent for a cached "not found". */
  v?: JsonValue;
  /** Expiry instant (epoch ms); 0 for never. */
  e: number;
}

type Outcome = { found: true; value: JsonValue } | { found: false };

const NOT_FOUND: Outcome = { found: false };
const DEFAULT_TTL_MS = 60_000;
const DEFAULT_LOCK_TTL_MS = 10_000;
const DEFAULT_GRACE_ENTRIES = 1_000;
const LOCK_NAMESPACE = "cacher:";

/**
 * Creates a read-through cacher over `store`. Entries are stored as small envelopes (value and
 * freshness), so give the cacher a store namespace of its own (`keyPrefix`). Fallback errors
 * are never cached; concurrent loads of one key in this process share one fallback call.
 */
export function createCacher(store: Store, options: CacherOptions = {}): Cacher {
  return new ReadThroughCacher(store, options);
}

class ReadThroughCacher implements Cacher {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #notFoundTtlMs: number;
  readonly #distributed: Required<DistributedOptions> | undefined;
  readonly #grace: Required<GraceOptions> | undefined;
  readonly #onError: NonNullable<CacherOptions["onError"]>;
  /** Loads under way in this process, by key: the request coalescing. */
  readonly #inflight = new Map<string, Promise<Outcome>>();
  /** Bumped by `mdelete`; a load that started before a key's invalidation must not write it back. */
  #epoch = 0;
  readonly #invalidated = new Map<string, number>();
  #loading = 0;
  /** Last envelopes seen, for grace when the store fails, the least recently seen going first. */
  readonly #last: LruMap<Envelope>;

  constructor(store: Store, options: CacherOptions) {
    this.#store = store;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#notFoundTtlMs = options.notFoundTtlMs ?? 0;
    if (options.distributed) {
      const d = options.distributed === true ? {} : options.distributed;
      const lockTtlMs = d.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
      this.#distributed = {
        lockTtlMs,
        waitMs: d.waitMs ?? lockTtlMs,
        pollMs: d.pollMs ?? 10,
        maxPollMs: d.maxPollMs ?? 250,
      };
    }
    if (options.grace !== undefined) {
      this.#grace = {
        maxAgeMs: options.grace.maxAgeMs,
        maxEntries: options.grace.maxEntries ?? DEFAULT_GRACE_ENTRIES,
      };
    }
    this.#last = new LruMap(this.#grace?.maxEntries ?? 0);
    this.#onError = options.onError ?? (() => {});
  }

  async get<T extends JsonValue>(
    key: string,
    fallback: Fallback<T>,
    options: CallOptions = {},
  ): Promise<T | undefined> {
    const batch: BatchFallback<T> = async (keys) => {
      const only = keys[0] as string;
      return new Map([[only, await fallback(only)]]);
    };
    const outcome = (await this.#resolve([key], batch, options, false)).get(key) ?? NOT_FOUND;
    return outcome.found ? (outcome.value as T) : undefined;
  }

  async mget<T extends JsonValue>(
    keys: string[],
    batchFallback: BatchFallback<T>,
    options: CallOptions = {},
  ): Promise<Map<string, T>> {
    return found<T>(keys, await this.#resolve(keys, batchFallback, options, false));
  }

  async mrefresh<T extends JsonValue>(
    keys: string[],
    batchFallback: BatchFallback<T>,
    options: CallOptions = {},
  ): Promise<Map<string, T>> {
    return found<T>(keys, await this.#resolve(keys, batchFallback, options, true));
  }

  async mdelete(keys: string[]): Promise<void> {
    const at = ++this.#epoch;
    for (const key of keys) {
      this.#last.delete(key);
      // Later reads start a load of their own instead of joining one that began before this.
      this.#inflight.delete(key);
      this.#invalidated.set(key, at);
    }
    await Promise.all([...new Set(keys)].map((key) => this.#store.delete(key)));
  }

  /**
   * Joins loads already under way for some keys and starts one batch for the rest, registering
   * it before any I/O so that every concurrent caller finds it.
   */
  async #resolve<T extends JsonValue>(
    keys: string[],
    batchFallback: BatchFallback<T>,
    options: CallOptions,
    force: boolean,
  ): Promise<Map<string, Outcome>> {
    const waits = new Map<string, Promise<Outcome>>();
    const mine: string[] = [];
    for (const key of new Set(keys)) {
      const running = force ? undefined : this.#inflight.get(key);
      if (running !== undefined) waits.set(key, running);
      else mine.push(key);
    }
    if (mine.length > 0) {
      const batch = this.#run(mine, batchFallback, options, force);
      for (const key of mine) {
        const one = batch.then((outcomes) => outcomes.get(key) ?? NOT_FOUND);
        this.#inflight.set(key, one);
        waits.set(key, one);
        const done = () => {
          if (this.#inflight.get(key) === one) this.#inflight.delete(key);
        };
        one.then(done, done);
      }
    }
    const entries = [...waits];
    const outcomes = await Promise.all(entries.map(([, wait]) => wait));
    return new Map(entries.map(([key], i) => [key, outcomes[i] as Outcome]));
  }

  async #run<T extends JsonValue>(
    keys: string[],
    batchFallback: BatchFallback<T>,
    options: CallOptions,
    force: boolean,
  ): Promise<Map<string, Outcome>> {
    if (force) return this.#fetch(keys, batchFallback, options, new Map());
    const out = new Map<string, Outcome>();
    const stale = new Map<string, Envelope>();
    let read: Map<string, Envelope>;
    try {
      read = await this.#read(keys);
    } catch (error) {
      this.#onError(error, { operation: "read", keys });
      // The store is down: serve this process's last values within grace, load the others.
      const missing: string[] = [];
      for (const key of keys) {
        const last = this.#graceable(this.#last.peek(key));
        if (last !== undefined) out.set(key, outcomeOf(last));
        else missing.push(key);
      }
      if (missing.length > 0) merge(out, await this.#fetch(missing, batchFallback, options, stale));
      return out;
    }
    const missing = this.#sortFresh(keys, read, out, stale);
    if (missing.length === 0) return out;
    const loaded =
      this.#distributed === undefined
        ? await this.#fetch(missing, batchFallback, options, stale)
        : await this.#loadDistributed(missing, batchFallback, options, stale, this.#distributed);
    return merge(out, loaded);
  }

  /** Puts the fresh entries of `read` into `out`, the graceable stale ones into `stale`; answers the rest. */
  #sortFresh(
    keys: string[],
    read: Map<string, Envelope>,
    out: Map<string, Outcome>,
    stale: Map<string, Envelope>,
  ): string[] {
    const now = this.#clock.now();
    const missing: string[] = [];
    for (const key of keys) {
      const envelope = read.get(key);
      if (envelope !== undefined && (envelope.e === 0 || envelope.e > now)) {
        out.set(key, outcomeOf(envelope));
        this.#remember(key, envelope);
        continue;
      }
      const graceable = this.#graceable(envelope);
      if (graceable !== undefined) stale.set(key, graceable);
      missing.push(key);
    }
    return missing;
  }

  /**
   * Per key: lock, re-check the store, load, unlock. Keys locked by another instance are polled
   * with backoff until they appear or their lock frees up; after `waitMs` this instance stops
   * waiting and loads them itself, so a stuck loader delays readers but never blocks them.
   */
  async #loadDistributed<T extends JsonValue>(
    keys: string[],
    batchFallback: BatchFallback<T>,
    options: CallOptions,
    stale: Map<string, Envelope>,
    d: Required<DistributedOptions>,
  ): Promise<Map<string, Outcome>> {
    const out = new Map<string, Outcome>();
    const deadline = Date.now() + d.waitMs;
    let pending = keys;
    let delay = d.pollMs;
    for (;;) {
      const tokens = await Promise.all(pending.map((key) => this.#lock(key, d.lockTtlMs)));
      const held = pending.map((key, i) => ({ key, token: tokens[i] })).filter((h) => h.token !== null);
      const others = pending.filter((_, i) => tokens[i] === null);
      if (held.length > 0) {
        const mine = held.map((h) => h.key);
        try {
          // Another instance may have loaded a key between our read and our lock.
          const again = await this.#read(mine).catch(() => new Map<string, Envelope>());
          const still = this.#sortFresh(mine, again, out, stale);
          if (still.length > 0) merge(out, await this.#fetch(still, batchFallback, options, stale));
        } finally {
          await Promise.all(held.map((h) => this.#unlock(h.key, h.token)));
        }
      }
      pending = others;
      if (pending.length === 0) return out;
      if (Date.now() >= deadline)
        return merge(out, await this.#fetch(pending, batchFallback, options, stale));
      await sleep(delay / 2 + Math.random() * (delay / 2));
      delay = Math.min(delay * 2, d.maxPollMs);
      const polled = await this.#read(pending).catch(() => new Map<string, Envelope>());
      pending = this.#sortFresh(pending, polled, out, stale);
      if (pending.length === 0) return out;
    }
  }

  /** A lock token; `undefined` (load unlocked) when the store cannot lock at all. */
  async #lock(key: string, ttlMs: number): Promise<string | null | undefined> {
    try {
      return await this.#store.lock(LOCK_NAMESPACE + key, ttlMs);
    } catch (error) {
      this.#onError(error, { operation: "lock", keys: [key] });
      return undefined;
    }
  }

  async #unlock(key: string, token: string | null | undefined): Promise<void> {
    if (typeof token !== "string") return;
    try {
      await this.#store.unlock(LOCK_NAMESPACE + key, token);
    } catch (error) {
      // The lock then frees itself at its TTL.
      this.#onError(error, { operation: "unlock", keys: [key] });
    }
  }

  /**
   * Calls the fallback once for `keys` and caches what it answers. A failing fallback caches
   * nothing: it rethrows, unless every key has a value within grace, which is then served.
   */
  async #fetch<T extends JsonValue>(
    keys: string[],
    batchFallback: BatchFallback<T>,
    options: CallOptions,
    stale: Map<string, Envelope>,
  ): Promise<Map<string, Outcome>> {
    const started = this.#epoch;
    this.#loading++;
    try {
      return await this.#load(keys, batchFallback, options, stale, started);
    } finally {
      if (--this.#loading === 0) this.#invalidated.clear();
    }
  }

  async #load<T extends JsonValue>(
    keys: string[],
    batchFallback: BatchFallback<T>,
    options: CallOptions,
    stale: Map<string, Envelope>,
    started: number,
  ): Promise<Map<string, Outcome>> {
    let answer: Map<string, T | undefined> | Record<string, T | undefined>;
    try {
      answer = await batchFallback([...keys]);
    } catch (error) {
      const graced = new Map<string, Outcome>();
      for (const key of keys) {
        const envelope = stale.get(key) ?? this.#graceable(this.#last.peek(key));
        if (envelope === undefined) throw error;
        graced.set(key, outcomeOf(envelope));
      }
      return graced;
    }
    const ttlMs = options.ttlMs ?? this.#ttlMs;
    const notFoundTtlMs = options.notFoundTtlMs ?? this.#notFoundTtlMs;
    const now = this.#clock.now();
    const values = new Map<string, JsonValue>();
    const notFound = new Map<string, JsonValue>();
    const out = new Map<string, Outcome>();
    for (const key of keys) {
      const value =
        answer instanceof Map ? answer.get(key) : Object.hasOwn(answer, key) ? answer[key] : undefined;
      if (value !== undefined) {
        const envelope: Envelope = { $cacher: 1, v: value, e: ttlMs === 0 ? 0 : now + ttlMs };
        values.set(key, envelope as unknown as JsonValue);
        this.#remember(key, envelope);
        out.set(key, { found: true, value });
      } else {
        out.set(key, NOT_FOUND);
        this.#last.delete(key);
        if (notFoundTtlMs > 0) notFound.set(key, { $cacher: 1, e: now + notFoundTtlMs });
      }
    }
    for (const key of keys) {
      if ((this.#invalidated.get(key) ?? -1) > started) {
        values.delete(key);
        notFound.delete(key);
        this.#last.delete(key);
      }
    }
    await this.#write(values, ttlMs);
    await this.#write(notFound, notFoundTtlMs);
    return out;
  }

  async #read(keys: string[]): Promise<Map<string, Envelope>> {
    const raw = await this.#store.getMany(keys);
    const out = new Map<string, Envelope>();
    for (const [key, value] of raw) if (isEnvelope(value)) out.set(key, value);
    return out;
  }

  /** Writes envelopes; the store keeps them `grace.maxAgeMs` past their freshness. */
  async #write(entries: Map<string, JsonValue>, ttlMs: number): Promise<void> {
    if (entries.size === 0) return;
    const keep = ttlMs === 0 ? 0 : ttlMs + (this.#grace?.maxAgeMs ?? 0);
    try {
      await this.#store.setMany(entries, keep);
    } catch (error) {
      // The value is still answered; the next read just loads it again.
      this.#onError(error, { operation: "write", keys: [...entries.keys()] });
    }
  }

  #graceable(envelope: Envelope | undefined): Envelope | undefined {
    if (envelope === undefined || this.#grace === undefined) return undefined;
    if (envelope.e === 0 || this.#clock.now() - envelope.e <= this.#grace.maxAgeMs) return envelope;
    return undefined;
  }

  #remember(key: string, envelope: Envelope): void {
    if (this.#grace === undefined) return;
    this.#last.set(key, envelope);
  }
}

function isEnvelope(value: JsonValue): value is JsonValue & Envelope {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    value.$cacher === 1 &&
    typeof value.e === "number"
  );
}

function outcomeOf(envelope: Envelope): Outcome {
  return envelope.v === undefined ? NOT_FOUND : { found: true, value: envelope.v };
}

function found<T extends JsonValue>(keys: string[], outcomes: Map<string, Outcome>): Map<string, T> {
  const out = new Map<string, T>();
  for (const key of keys) {
    const outcome = outcomes.get(key);
    if (outcome?.found) out.set(key, outcome.value as T);
  }
  return out;
}

function merge(into: Map<string, Outcome>, from: Map<string, Outcome>): Map<string, Outcome> {
  for (const [key, outcome] of from) into.set(key, outcome);
  return into;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
