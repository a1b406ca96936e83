import { WrongTypeError } from "../errors.ts";
import { compileGlob } from "./glob.ts";
import type { Clock, JsonValue, KeysOptions, KeysPage, KvStore, LockResult, SetOptions } from "./types.ts";
import { SYSTEM_CLOCK } from "./types.ts";
import {
  addCounter,
  compareBytes,
  counterValue,
  createRecord,
  decodeCursor,
  encodeCursor,
  keysLimit,
  randomToken,
} from "./util.ts";

type Entry =
  | { kind: "string"; json: string; expiresAt: number | null }
  | { kind: "hash"; fields: Map<string, string>; expiresAt: number | null };

/** Options of `MemoryStore`. */
export interface MemoryStoreOptions {
  clock?: Clock;
}

/**
 * The whole store in one process's memory: for tests and for scripts that need no persistence.
 * Values are kept as JSON text, so a caller never shares an object with the store.
 */
export class MemoryStore implements KvStore {
  readonly kind = "memory" as const;
  #entries = new Map<string, Entry>();
  #locks = new Map<string, { token: string; expiresAt: number }>();
  #clock: Clock;

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #string(key: string): Extract<Entry, { kind: "string" }> | undefined {
    const entry = this.#live(key);
    if (entry !== undefined && entry.kind !== "string") throw new WrongTypeError();
    return entry;
  }

  #hash(key: string): Extract<Entry, { kind: "hash" }> | undefined {
    const entry = this.#live(key);
    if (entry !== undefined && entry.kind !== "hash") throw new WrongTypeError();
    return entry;
  }

  async get(key: string): Promise<JsonValue | undefined> {
    const entry = this.#string(key);
    return entry === undefined ? undefined : (JSON.parse(entry.json) as JsonValue);
  }

  async set(key: string, value: JsonValue, options: SetOptions = {}): Promise<boolean> {
    const exists = this.#live(key) !== undefined;
    if ((options.nx && exists) || (options.xx && !exists)) return false;
    this.#entries.set(key, {
      kind: "string",
      json: JSON.stringify(value),
      expiresAt: options.ttlMs === undefined ? null : this.#clock.now() + options.ttlMs,
    });
    return true;
  }

  async setEx(key: string, value: JsonValue, ttlMs: number): Promise<true> {
    await this.set(key, value, { ttlMs });
    return true;
  }

  async delete(key: string): Promise<number> {
    return this.#live(key) !== undefined && this.#entries.delete(key) ? 1 : 0;
  }

  async exists(key: string): Promise<boolean> {
    return this.#live(key) !== undefined;
  }

  async ttl(key: string): Promise<number> {
    const entry = this.#live(key);
    if (entry === undefined) return -2;
    return entry.expiresAt === null ? -1 : entry.expiresAt - this.#clock.now();
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.#live(key);
    if (entry === undefined) return false;
    entry.expiresAt = this.#clock.now() + ttlMs;
    return true;
  }

  async incr(key: string): Promise<number> {
    return this.incrBy(key, 1);
  }

  async decr(key: string, by = 1): Promise<number> {
    return this.incrBy(key, -by);
  }

  async incrBy(key: string, by: number): Promise<number> {
    const entry = this.#string(key);
    const current = counterValue(entry === undefined ? undefined : (JSON.parse(entry.json) as JsonValue));
    const next = addCounter(current, by);
    if (entry === undefined) this.#entries.set(key, { kind: "string", json: String(next), expiresAt: null });
    else entry.json = String(next);
    return next;
  }

  async hSet(key: string, fields: Record<string, JsonValue>): Promise<number> {
    let entry = this.#hash(key);
    if (entry === undefined) {
      entry = { kind: "hash", fields: new Map(), expiresAt: null };
      this.#entries.set(key, entry);
    }
    let created = 0;
    for (const [field, value] of Object.entries(fields)) {
      if (!entry.fields.has(field)) created++;
      entry.fields.set(field, JSON.stringify(value));
    }
    return created;
  }

  async hGet(key: string, field: string): Promise<JsonValue | undefined> {
    const json = this.#hash(key)?.fields.get(field);
    return json === undefined ? undefined : (JSON.parse(json) as JsonValue);
  }

  async hGetAll(key: string): Promise<Record<string, JsonValue>> {
    const out = createRecord<JsonValue>();
    const entry = this.#hash(key);
    if (entry === undefined) return out;
    for (const [field, json] of entry.fields) out[field] = JSON.parse(json) as JsonValue;
    return out;
  }

  async hDel(key: string, fields: string[]): Promise<number> {
    const entry = this.#hash(key);
    if (entry === undefined) return 0;
    let removed = 0;
    for (const field of new Set(fields)) if (entry.fields.delete(field)) removed++;
    if (entry.fields.size === 0) this.#entries.delete(key);
    return removed;
  }

  async hIncrBy(key: string, field: string, by: number): Promise<number> {
    const entry = this.#hash(key);
    const json = entry?.fields.get(field);
    const next = addCounter(counterValue(json === undefined ? undefined : (JSON.parse(json) as JsonValue)), by);
    if (entry === undefined) {
      this.#entries.set(key, { kind: "hash", fields: new Map([[field, String(next)]]), expiresAt: null });
    } else {
      entry.fields.set(field, String(next));
    }
    return next;
  }

  async lock(key: string, ttlMs: number): Promise<LockResult> {
    const now = this.#clock.now();
    const held = this.#locks.get(key);
    if (held !== undefined && held.expiresAt > now) return { acquired: false, token: null };
    const token = randomToken();
    this.#locks.set(key, { token, expiresAt: now + ttlMs });
    return { acquired: true, token };
  }

  #holds(key: string, token: string): boolean {
    const held = this.#locks.get(key);
    return held !== undefined && held.token === token && held.expiresAt > this.#clock.now();
  }

  async unlock(key: string, token: string): Promise<boolean> {
    return this.#holds(key, token) && this.#locks.delete(key);
  }

  async extend(key: string, token: string, ttlMs: number): Promise<boolean> {
    if (!this.#holds(key, token)) return false;
    this.#locks.set(key, { token, expiresAt: this.#clock.now() + ttlMs });
    return true;
  }

  async mSet(pairs: Record<string, JsonValue>, options: { ttlMs?: number } = {}): Promise<true> {
    const expiresAt = options.ttlMs === undefined ? null : this.#clock.now() + options.ttlMs;
    for (const [key, value] of Object.entries(pairs)) {
      this.#entries.set(key, { kind: "string", json: JSON.stringify(value), expiresAt });
    }
    return true;
  }

  async mGet(keys: string[]): Promise<Record<string, JsonValue>> {
    const out = createRecord<JsonValue>();
    for (const key of keys) {
      const entry = this.#live(key);
      if (entry?.kind === "string") out[key] = JSON.parse(entry.json) as JsonValue;
    }
    return out;
  }

  async keys(options: KeysOptions = {}): Promise<KeysPage> {
    const limit = keysLimit(options.limit);
    const after = decodeCursor(options.cursor);
    const glob = compileGlob(options.pattern ?? "*");
    const now = this.#clock.now();
    const all = [...this.#entries]
      .filter(([key, e]) => (e.expiresAt === null || e.expiresAt > now) && glob.test(key))
      .map(([key]) => key)
      .filter((key) => after === null || compareBytes(key, after) > 0)
      .sort(compareBytes);
    const keys = all.slice(0, limit);
    const last = keys[keys.length - 1];
    return { keys, cursor: all.length > limit && last !== undefined ? encodeCursor(last) : null };
  }

  async sweep(): Promise<number> {
    const now = this.#clock.now();
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt !== null && entry.expiresAt <= now && this.#entries.delete(key)) removed++;
    }
    for (const [key, held] of this.#locks) {
      if (held.expiresAt <= now && this.#locks.delete(key)) removed++;
    }
    return removed;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
