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
  #scripts = new Map<string, string>();
  #clock: Clock;
  /** While an atomic section runs, what other callers wait for; null otherwise. */
  #gate: Promise<void> | null = null;
  /** Whether this is the view an atomic section runs with (it never waits for its own gate). */
  #inSection = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  async #enter(): Promise<void> {
    while (this.#gate !== null && !this.#inSection) await this.#gate;
  }

  /**
   * Runs `fn` with a view of this store that no other caller's operation interleaves with:
   * every operation of the store waits until the section ends.
   */
  async atomic<T>(_keys: readonly string[], fn: (tx: KvStore & SnapshotSource) => Promise<T>): Promise<T> {
    if (this.#inSection) return fn(this);
    // The check and the claim of the gate happen in one turn: no two sections both pass.
    while (this.#gate !== null) await this.#gate;
    let release = () => {};
    this.#gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const view = new MemoryStore({ clock: this.#clock });
    view.#entries = this.#entries;
    view.#locks = this.#locks;
    view.#scripts = this.#scripts;
    view.#inSection = true;
    try {
      return await fn(view);
    } finally {
      this.#gate = null;
      release();
    }
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
    if (this.#gate !== null && !this.#inSection) await this.#enter();
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
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    const out = new Map<string, Snapshot>();
    for (const key of keys) out.set(key, await this.inspect(key));
    return out;
  }

  async get(key: string): Promise<JsonValue | undefined> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    return snapshotGet(await this.inspect(key));
  }

  async set(key: string, value: JsonValue, options: SetOptions = {}): Promise<boolean> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
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
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    await this.set(key, value, { ttlMs });
    return true;
  }

  async delete(key: string): Promise<number> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    return this.#live(key) !== undefined && this.#entries.delete(key) ? 1 : 0;
  }

  async exists(key: string): Promise<boolean> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    return this.#live(key) !== undefined;
  }

  async ttl(key: string): Promise<number> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    const entry = this.#live(key);
    if (entry === undefined) return -2;
    return entry.expiresAt === null ? -1 : entry.expiresAt - this.#clock.now();
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    const entry = this.#live(key);
    if (entry === undefined) return false;
    entry.expiresAt = this.#clock.now() + ttlMs;
    return true;
  }

  async incr(key: string): Promise<number> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    return this.incrBy(key, 1);
  }

  async decr(key: string, by = 1): Promise<number> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    return this.incrBy(key, -checkStep(by));
  }

  async incrBy(key: string, by: number): Promise<number> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    const entry = this.#string(key);
    const current = counterValue(entry === undefined ? undefined : parse(entry.json));
    const next = addCounter(current, checkStep(by));
    if (entry === undefined) this.#entries.set(key, { kind: "string", json: String(next), expiresAt: null });
    else entry.json = String(next);
    return next;
  }

  async hSet(key: string, fields: Record<string, JsonValue>): Promise<number> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
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
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    return snapshotHGet(await this.inspect(key, [field]), field);
  }

  async hGetAll(key: string): Promise<Record<string, JsonValue>> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    return snapshotHGetAll(await this.inspect(key, "all"));
  }

  async hDel(key: string, fields: string[]): Promise<number> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    const entry = this.#hash(key);
    if (entry === undefined) return 0;
    let removed = 0;
    for (const field of new Set(fields)) if (entry.fields.delete(field)) removed++;
    if (entry.fields.size === 0) this.#entries.delete(key);
    return removed;
  }

  async hIncrBy(key: string, field: string, by: number): Promise<number> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
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
    if (this.#gate !== null && !this.#inSection) await this.#enter();
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
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    return this.#holds(key, token) && this.#locks.delete(key);
  }

  async extend(key: string, token: string, ttlMs: number): Promise<boolean> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    if (!this.#holds(key, token)) return false;
    this.#locks.set(key, { token, expiresAt: this.#clock.now() + ttlMs });
    return true;
  }

  async mSet(pairs: Record<string, JsonValue>, options: { ttlMs?: number } = {}): Promise<true> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    const expiresAt = options.ttlMs === undefined ? null : this.#clock.now() + options.ttlMs;
    for (const [key, value] of Object.entries(pairs)) {
      this.#entries.set(key, { kind: "string", json: JSON.stringify(value), expiresAt });
    }
    return true;
  }

  async mGet(keys: string[]): Promise<Record<string, JsonValue>> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    return snapshotsMGet(keys, await this.inspectMany(keys));
  }

  async keys(options: KeysOptions = {}): Promise<KeysPage> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    const limit = keysLimit(options.limit);
    const after = decodeCursor(options.cursor);
    const glob = compileGlob(options.pattern ?? "*", options.glob);
    const now = this.#clock.now();
    const all = [...this.#entries]
      .filter(([key, e]) => (e.expiresAt === null || e.expiresAt > now) && glob.test(key))
      .map(([key]) => key)
      .filter((key) => after === null || compareBytes(key, after) > 0)
      .sort(compareBytes);
    return keysPage(all, limit);
  }

  async flush(): Promise<void> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
    this.#entries.clear();
  }

  async scripts(shas: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const sha of shas) {
      const body = this.#scripts.get(sha);
      if (body !== undefined) out.set(sha, body);
    }
    return out;
  }

  async saveScript(sha: string, body: string): Promise<void> {
    if (!this.#scripts.has(sha)) this.#scripts.set(sha, body);
  }

  async flushScripts(): Promise<void> {
    this.#scripts.clear();
  }

  async sweep(): Promise<number> {
    if (this.#gate !== null && !this.#inSection) await this.#enter();
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
