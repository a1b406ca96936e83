import { KvError } from "../core/errors.ts";
import {
  JsonText,
  type JsonValue,
  type KeysOptions,
  type KeysPage,
  type LockResult,
  type SetOptions,
  type StoreKind,
} from "../core/types.ts";
import { checkStep } from "../engine/counter.ts";
import { Engine, type L1Options } from "../engine/engine.ts";
import type { FieldSelection, KvStore, Snapshot, SnapshotSource } from "../engine/types.ts";
import { type Command, execute } from "./command.ts";
import { COMMANDS } from "./index.ts";

/** Options of `CachedStore` (SPEC §4). */
export type CachedStoreOptions = L1Options;

/**
 * A `KvStore` with the server's L1 in front of any store, for code that embeds tierkv: every
 * operation runs the same command unit the HTTP API runs, so it reads its own writes and never
 * serves a key past its expiry exactly as the server does. Results are copies: a caller that
 * changes one does not change what L1 serves.
 */
export class CachedStore implements KvStore, SnapshotSource {
  readonly kind: StoreKind;
  readonly engine: Engine;

  constructor(inner: KvStore & SnapshotSource, options: CachedStoreOptions = {}) {
    this.engine = new Engine(inner, options);
    this.kind = inner.kind;
  }

  async #run<T>(command: Command, input: unknown): Promise<T> {
    const outcome = await execute(command, this.engine, input);
    if (!outcome.ok) throw outcome.error;
    // A value read as JSON text is parsed here: a fresh copy, which the caller may change.
    return (outcome.result instanceof JsonText ? outcome.result.parse() : outcome.result) as T;
  }

  /** Like `#run`, with a missing key or field as `undefined` instead of `NotFoundError`. */
  async #found<T>(command: Command, input: unknown): Promise<T | undefined> {
    try {
      return await this.#run<T>(command, input);
    } catch (error) {
      if (error instanceof KvError && error.code === "NOT_FOUND") return undefined;
      throw error;
    }
  }

  async inspect(key: string, fields: FieldSelection = "none"): Promise<Snapshot> {
    return (await this.engine.read(key, fields)).value;
  }

  async inspectMany(keys: string[]): Promise<Map<string, Snapshot>> {
    return (await this.engine.readMany(keys)).value;
  }

  get(key: string): Promise<JsonValue | undefined> {
    return this.#found(COMMANDS.get, { key });
  }

  set(key: string, value: JsonValue, options: SetOptions = {}): Promise<boolean> {
    return this.#run(COMMANDS.set, { key, value, ...options });
  }

  setEx(key: string, value: JsonValue, ttlMs: number): Promise<true> {
    return this.#run(COMMANDS.setex, { key, value, ttlMs });
  }

  delete(key: string): Promise<number> {
    return this.#run(COMMANDS.delete, { key });
  }

  exists(key: string): Promise<boolean> {
    return this.#run(COMMANDS.exists, { key });
  }

  ttl(key: string): Promise<number> {
    return this.#run(COMMANDS.ttl, { key });
  }

  expire(key: string, ttlMs: number): Promise<boolean> {
    return this.#run(COMMANDS.expire, { key, ttlMs });
  }

  incr(key: string): Promise<number> {
    return this.#run(COMMANDS.incr, { key, by: 1 });
  }

  async incrBy(key: string, by: number): Promise<number> {
    return this.#run(COMMANDS.incr, { key, by: checkStep(by) });
  }

  async decr(key: string, by = 1): Promise<number> {
    return this.#run(COMMANDS.decr, { key, by: checkStep(by) });
  }

  hSet(key: string, fields: Record<string, JsonValue>): Promise<number> {
    return this.#run(COMMANDS.hset, { key, fields });
  }

  hGet(key: string, field: string): Promise<JsonValue | undefined> {
    return this.#found(COMMANDS.hget, { key, field });
  }

  async hGetAll(key: string): Promise<Record<string, JsonValue>> {
    return this.#run(COMMANDS.hgetall, { key });
  }

  hDel(key: string, fields: string[]): Promise<number> {
    return this.#run(COMMANDS.hdel, { key, fields });
  }

  hIncrBy(key: string, field: string, by: number): Promise<number> {
    return this.#run(COMMANDS.hincrby, { key, field, by });
  }

  lock(key: string, ttlMs: number): Promise<LockResult> {
    return this.#run(COMMANDS.lock, { key, ttlMs });
  }

  unlock(key: string, token: string): Promise<boolean> {
    return this.#run(COMMANDS.unlock, { key, token });
  }

  extend(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.#run(COMMANDS.extend, { key, token, ttlMs });
  }

  mSet(pairs: Record<string, JsonValue>, options: { ttlMs?: number } = {}): Promise<true> {
    return this.#run(COMMANDS.mset, { pairs, ...options });
  }

  async mGet(keys: string[]): Promise<Record<string, JsonValue>> {
    return this.#run(COMMANDS.mget, { keys });
  }

  keys(options: KeysOptions = {}): Promise<KeysPage> {
    return this.engine.store.keys(options);
  }

  sweep(): Promise<number> {
    return this.engine.sweep();
  }

  flush(): Promise<void> {
    return this.engine.flush();
  }

  scripts(shas: string[]): Promise<Map<string, string>> {
    return this.engine.store.scripts(shas);
  }

  saveScript(sha: string, body: string): Promise<void> {
    return this.engine.store.saveScript(sha, body);
  }

  flushScripts(): Promise<void> {
    return this.engine.store.flushScripts();
  }

  ping(): Promise<void> {
    return this.engine.ping();
  }

  /** An atomic section on the inner store; the L1 entries of its keys go before and after it. */
  atomic<T>(keys: readonly string[], fn: (tx: KvStore & SnapshotSource) => Promise<T>): Promise<T> {
    return this.engine.write(keys, () => this.engine.store.atomic(keys, fn));
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
