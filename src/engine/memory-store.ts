import { compareBytes } from "../core/bytes.ts";
import { WrongTypeError } from "../core/errors.ts";
import { compileGlob } from "../core/glob.ts";
import { decodeCursor, keysLimit, keysPage } from "../core/keys-page.ts";
import { randomToken } from "../core/token.ts";
import {
  type Clock,
  type JsonValue,
  type KeysOptions,
  type KeysPage,
  type LockResult,
  type SetOptions,
  SYSTEM_CLOCK,
} from "../core/types.ts";
import { addCounter, checkStep, counterValue } from "./counter.ts";
import { snapshotGet, snapshotHGet, snapshotHGetAll, snapshotsMGet } from "./snapshot.ts";
import type { FieldSelection, KvStore, Snapshot, SnapshotSource } from "./types.ts";

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
export class MemoryStore implements KvStore, SnapshotSource {
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

  async inspect(key: string, fields: FieldSelection = "none"): Promise<Snapshot> {
    const entry = this.#live(key);
    if (entry === undefined) return { kind: "none" };
    if (entry.kind === "string") return { kind: "string", json: entry.json, expiresAt: entry.expiresAt };
    const map = new Map<string, string | undefined>();
    const names =
      fields === "all" ? [...entry.fields.keys()].sort(compareBytes) : fields === "none" ? [] : fields;
    for (const f of names) map.set(f, entry.fields.get(f));
    return { kind: "hash", expiresAt: entry.expiresAt, fields: map, complete: fields === "all" };
  }

  async inspectMany(keys: string[]): Promise<Map<string, Snapshot>> {
    const out = new Map<string, Snapshot>();
    for (const key of keys) out.set(key, await this.inspect(key));
    return out;
  }

  async get(key: string): Promise<JsonValue | undefined> {
    return snapshotGet(await this.inspect(key));
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
    return this.incrBy(key, -checkStep(by));
  }

  async incrBy(key: string, by: number): Promise<number> {
    const entry = this.#string(key);
    const current = counterValue(entry === undefined ? undefined : parse(entry.json));
    const next = addCounter(current, checkStep(by));
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
    return snapshotHGet(await this.inspect(key, [field]), field);
  }

  async hGetAll(key: string): Promise<Record<string, JsonValue>> {
    return snapshotHGetAll(await this.inspect(key, "all"));
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
    const next = addCounter(counterValue(json === undefined ? undefined : parse(json)), checkStep(by));
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
    return snapshotsMGet(keys, await this.inspectMany(keys));
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
    return keysPage(all, limit);
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

function parse(json: string): JsonValue {
  return JSON.parse(json) as JsonValue;
}
