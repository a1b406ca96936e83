import { compareBytes } from "../../core/bytes.ts";
import {
  type Clock,
  type JsonValue,
  type KeysOptions,
  type KeysPage,
  type LockResult,
  type SetOptions,
  SYSTEM_CLOCK,
} from "../../core/types.ts";
import { Batcher, Coalescer } from "../coalesce.ts";
import { checkStep } from "../counter.ts";
import { snapshotGet, snapshotHGet, snapshotHGetAll, snapshotsMGet } from "../snapshot.ts";
import type { FieldSelection, KvStore, Snapshot, SnapshotSource } from "../types.ts";
import { type PoolUse, type Row, type SqlClient, SqlContext, transactionClient } from "./context.ts";
import * as counters from "./counters.ts";
import { type Dialect, join, sql } from "./dialect.ts";
import { isConflict } from "./driver-errors.ts";
import * as hashes from "./hashes.ts";
import * as keyspace from "./keys.ts";
import * as locks from "./locks.ts";
import * as scripts from "./scripts.ts";
import * as strings from "./strings.ts";

export type { SqlClient, SqlRunner } from "./context.ts";

const DONE = { ok: true, value: undefined } as const;

/** Options of `PrismaStore`. */
export interface PrismaStoreOptions {
  client: SqlClient;
  dialect: Dialect;
  clock?: Clock;
  /** Runs once before the first operation (the schema migration); failures are retried on the next call. */
  prepare?: () => Promise<void>;
  /** Called by `close()` after the client disconnects. */
  onClose?: () => Promise<void>;
  /** Keep other statements out while a transaction is open (single-connection SQLite). */
  isolateTransactions?: boolean;
  /**
   * Let concurrent requests share statements (whole-key reads, plain sets, increments); default true. Off
   * where each request has a connection of its own that no other request may use (workerd).
   */
  coalesce?: boolean;
  /** The client is an open transaction: see `SqlContextOptions.nested`. */
  nested?: boolean;
  /**
   * What an atomic section read of its keys as it locked them (whole-key snapshots): its reads
   * of those keys are answered from here until it runs its first statement, which empties it.
   */
  known?: Map<string, Snapshot>;
}

/**
 * The store on a SQL database through Prisma: SQLite, PostgreSQL and D1 run the same statements,
 * and the few expressions that differ come from the `Dialect`. The statements live by data type
 * beside this file (strings, counters, hashes, locks, keys); each operation is one statement
 * (one round trip) except the hash writes, which are one short transaction.
 */
export class PrismaStore implements KvStore, SnapshotSource {
  readonly kind: "sqlite" | "postgresql";
  readonly #sql: SqlContext;
  readonly #onClose: (() => Promise<void>) | undefined;
  readonly #reads: Coalescer<Snapshot> | undefined;
  readonly #sets: Batcher<strings.StringRow, undefined> | undefined;
  readonly #incrs: Batcher<counters.Increment, number> | undefined;
  readonly #known: Map<string, Snapshot> | undefined;

  constructor(options: PrismaStoreOptions) {
    this.kind = options.dialect.name;
    this.#onClose = options.onClose;
    this.#known = options.known;
    this.#sql = new SqlContext({
      client: options.client,
      dialect: options.dialect,
      clock: options.clock ?? SYSTEM_CLOCK,
      ...(options.prepare !== undefined ? { prepare: options.prepare } : {}),
      ...(options.isolateTransactions !== undefined
        ? { isolateTransactions: options.isolateTransactions }
        : {}),
      ...(options.nested ? { nested: true } : {}),
    });
    if (options.coalesce !== false) {
      this.#reads = new Coalescer((keys) => strings.inspectMany(this.#sql, keys));
      this.#sets = new Batcher(
        async (rows) => {
          await strings.writeStrings(this.#sql, rows);
          return rows.map(() => DONE);
        },
        100,
        (row) => row.key,
      );
      this.#incrs = new Batcher(
        (items) => counters.incrMany(this.#sql, items),
        100,
        (item) => item.key,
      );
    }
  }

  /** Concurrent increments of one key made in one turn share a statement, applied in call order. */
  get incrementsInCallOrder(): boolean {
    return this.#incrs !== undefined;
  }

  inspect(key: string, fields: FieldSelection = "none"): Promise<Snapshot> {
    const known = fields === "none" ? this.#known?.get(key) : undefined;
    if (known !== undefined) return Promise.resolve(known);
    // Whole-key reads of concurrent requests share one statement (`WHERE key IN …`).
    if (fields === "none" && this.#reads !== undefined) return this.#reads.load(key);
    return strings.inspect(this.#sql, key, fields);
  }

  inspectMany(keys: string[]): Promise<Map<string, Snapshot>> {
    return strings.inspectMany(this.#sql, keys);
  }

  async get(key: string): Promise<JsonValue | undefined> {
    return snapshotGet(await this.inspect(key));
  }

  set(key: string, value: JsonValue, options: SetOptions = {}): Promise<boolean> {
    if (options.nx || options.xx || this.#sets === undefined)
      return strings.set(this.#sql, key, value, options);
    // Plain sets of concurrent requests share one statement; each is acknowledged once it committed.
    const expiresAt = options.ttlMs === undefined ? null : this.#sql.clock.now() + options.ttlMs;
    return this.#sets.add({ key, json: JSON.stringify(value), expiresAt }).then(() => true);
  }

  async setEx(key: string, value: JsonValue, ttlMs: number): Promise<true> {
    await this.set(key, value, { ttlMs });
    return true;
  }

  delete(key: string): Promise<number> {
    return strings.del(this.#sql, key);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.inspect(key)).kind !== "none";
  }

  ttl(key: string): Promise<number> {
    return strings.ttl(this.#sql, key);
  }

  expire(key: string, ttlMs: number): Promise<boolean> {
    return strings.expire(this.#sql, key, ttlMs);
  }

  incr(key: string): Promise<number> {
    return this.incrBy(key, 1);
  }

  async decr(key: string, by = 1): Promise<number> {
    return this.incrBy(key, -checkStep(by));
  }

  async incrBy(key: string, by: number): Promise<number> {
    // Increments of concurrent requests share one statement; each gets the value it would alone.
    if (this.#incrs === undefined) return counters.incrBy(this.#sql, key, by);
    return this.#incrs.add({ key, by: checkStep(by) });
  }

  hSet(key: string, fields: Record<string, JsonValue>): Promise<number> {
    return hashes.hSet(this.#sql, key, fields);
  }

  async hGet(key: string, field: string): Promise<JsonValue | undefined> {
    return snapshotHGet(await this.inspect(key, [field]), field);
  }

  async hGetAll(key: string): Promise<Record<string, JsonValue>> {
    return snapshotHGetAll(await this.inspect(key, "all"));
  }

  hDel(key: string, fields: string[]): Promise<number> {
    return hashes.hDel(this.#sql, key, fields);
  }

  hIncrBy(key: string, field: string, by: number): Promise<number> {
    return hashes.hIncrBy(this.#sql, key, field, by);
  }

  lock(key: string, ttlMs: number): Promise<LockResult> {
    return locks.lock(this.#sql, key, ttlMs);
  }

  unlock(key: string, token: string): Promise<boolean> {
    return locks.unlock(this.#sql, key, token);
  }

  extend(key: string, token: string, ttlMs: number): Promise<boolean> {
    return locks.extend(this.#sql, key, token, ttlMs);
  }

  mSet(pairs: Record<string, JsonValue>, options: { ttlMs?: number } = {}): Promise<true> {
    return strings.mSet(this.#sql, pairs, options);
  }

  async mGet(keys: string[]): Promise<Record<string, JsonValue>> {
    return snapshotsMGet(keys, await this.inspectMany(keys));
  }

  keys(options: KeysOptions = {}): Promise<KeysPage> {
    return keyspace.keys(this.#sql, options);
  }

  sweep(): Promise<number> {
    return keyspace.sweep(this.#sql);
  }

  flush(): Promise<void> {
    return keyspace.flush(this.#sql);
  }

  scripts(shas: string[]): Promise<Map<string, string>> {
    return scripts.scripts(this.#sql, shas);
  }

  saveScript(sha: string, body: string): Promise<void> {
    return scripts.saveScript(this.#sql, sha, body);
  }

  flushScripts(): Promise<void> {
    return scripts.flushScripts(this.#sql);
  }

  /**
   * An atomic section in one transaction. On PostgreSQL it first takes a transaction-scoped
   * advisory lock per key (in byte order, so sections cannot deadlock) and locks the keys' rows,
   * so other sections over those keys wait and single writes of existing keys queue behind it;
   * SQLite's write transaction (BEGIN IMMEDIATE) serializes every writer of the file.
   */
  atomic<T>(keys: readonly string[], fn: (tx: KvStore & SnapshotSource) => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort(compareBytes).map((key) => this.#sql.enc(key));
    const { dialect, clock } = this.#sql;
    // What `fn` throws reaches the caller as it is; only the database's failures are translated.
    let failure: { error: unknown } | undefined;
    return this.#sql
      .transaction(async (tx) => {
        failure = undefined;
        const known = new Map<string, Snapshot>();
        if (dialect.name === "postgresql" && sorted.length > 0) {
          // One round trip for every key's lock, taken in the order of the list (byte order).
          await tx.$queryRaw(
            sql`SELECT count(pg_advisory_xact_lock(hashtextextended("k", 7411))) AS "n"
                FROM unnest(ARRAY[${join(sorted)}]::text[]) AS "t"("k")`,
          );
          // Then the rows are locked and read, by a statement of its own: one that also took the
          // locks would read with a snapshot from before its wait, missing a key another section
          // created meanwhile. Until the section writes, nobody else can change those rows, so its
          // first reads of its keys (a script's GETs) need no round trip.
          const rows = await tx.$queryRaw<Row[]>(
            sql`SELECT "key", "kind", "value", "expires_at" FROM "kv_entries"
                WHERE "key" IN ${dialect.list(sorted)} FOR UPDATE`,
          );
          const now = clock.now();
          for (const key of keys) known.set(key, { kind: "none" });
          for (const row of rows)
            known.set(dialect.decodeKey(row.key as string), strings.snapshotOfRow(row, now));
        }
        const view = new PrismaStore({
          client: forgetting(transactionClient(tx), known),
          dialect,
          clock,
          coalesce: false,
          nested: true,
          known,
        });
        try {
          return await fn(view);
        } catch (error) {
          failure = { error };
          throw error;
        }
      })
      .catch((error: unknown) => {
        throw failure !== undefined && !isConflict(failure.error) ? failure.error : error;
      });
  }

  roundTrips(): { count: number; seconds: number } {
    return this.#sql.roundTrips;
  }

  pool(): PoolUse | undefined {
    return this.#sql.client.pool?.();
  }

  async ping(): Promise<void> {
    await this.#sql.run((db) => db.$queryRaw(sql`SELECT 1 AS "one"`));
  }

  async close(): Promise<void> {
    await this.#sql.client.$disconnect();
    await this.#onClose?.();
  }
}

/** `client`, emptying `known` before each statement it runs: what was read may change from then on. */
function forgetting(client: SqlClient, known: Map<string, Snapshot>): SqlClient {
  return {
    $queryRaw: (query) => {
      known.clear();
      return client.$queryRaw(query);
    },
    $executeRaw: (query) => {
      known.clear();
      return client.$executeRaw(query);
    },
    $transaction: (fn, options) => {
      known.clear();
      return client.$transaction(fn, options);
    },
    $disconnect: () => client.$disconnect(),
  };
}
