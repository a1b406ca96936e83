import type { Clock } from "../../core/types.ts";
import { RwLock } from "../rw-lock.ts";
import { type Dialect, raw, type Sql, sql } from "./dialect.ts";
import { isConflict, toKvError } from "./driver-errors.ts";

/** What the SQL statements need of a Prisma client: raw queries. */
export interface SqlRunner {
  $queryRaw<T = unknown>(query: Sql): Promise<T>;
  $executeRaw(query: Sql): Promise<number>;
}

/** A Prisma client of either provider: raw queries and interactive transactions. */
export interface SqlClient extends SqlRunner {
  $transaction<R>(
    fn: (tx: SqlRunner) => Promise<R>,
    options?: { maxWait?: number; timeout?: number },
  ): Promise<R>;
  $disconnect(): Promise<void>;
  /** The connection pool's use, where there is one (PostgreSQL). */
  pool?(): PoolUse | undefined;
}

/** How many pooled connections are open, how many of them idle, and how many callers wait for one. */
export interface PoolUse {
  total: number;
  idle: number;
  waiting: number;
}

/** A row as the driver answers it. */
export type Row = Record<string, unknown>;

/** The tables of the schema (prisma/<provider>/schema.prisma). */
export const T_ENTRIES = raw(`"kv_entries"`);
export const T_FIELDS = raw(`"kv_hash_fields"`);
export const T_LOCKS = raw(`"kv_locks"`);

/** Most attempts of an update that lost a race to a concurrent writer of the same row. */
export const WRITE_RETRIES = 5;

const TX_OPTIONS = { maxWait: 5_000, timeout: 10_000 };
const CONFLICT_RETRIES = 4;

/** Options of `SqlContext`. */
export interface SqlContextOptions {
  client: SqlClient;
  dialect: Dialect;
  clock: Clock;
  /** Runs once before the first statement (the schema migration); a failure is retried on the next. */
  prepare?: () => Promise<void>;
  /**
   * Keep other statements out while a transaction is open. Needed where the client has one
   * connection (SQLite): a statement sent during someone's transaction would join it, and
   * be undone with it.
   */
  isolateTransactions?: boolean;
  /**
   * The client is an open transaction (an atomic section's): statements run once, and a conflict
   * reaches the transaction's owner untranslated, which runs the whole transaction again.
   */
  nested?: boolean;
}

/**
 * What every SQL statement of the engine runs through: the client, the dialect, the clock, the
 * one-time preparation, transaction isolation on single-connection databases, deadlock retries,
 * and the translation of driver failures into `KvError`s.
 */
export class SqlContext {
  readonly client: SqlClient;
  readonly dialect: Dialect;
  readonly clock: Clock;
  #prepare: (() => Promise<void>) | undefined;
  #prepared: Promise<void> | undefined;
  #lock: RwLock | undefined;
  readonly #nested: boolean;
  /** Statements and transactions run, and the seconds they took in all (failures included). */
  readonly roundTrips = { count: 0, seconds: 0 };

  constructor(options: SqlContextOptions) {
    this.#nested = options.nested === true;
    this.client = options.client;
    this.dialect = options.dialect;
    this.clock = options.clock;
    this.#prepare = options.prepare;
    this.#lock = options.isolateTransactions ? new RwLock() : undefined;
  }

  /** Runs `fn` once the database is prepared, turning driver failures into `KvError`s. */
  run<T>(fn: (db: SqlClient) => Promise<T>): Promise<T> {
    return this.#lock === undefined ? this.#exec(fn) : this.#lock.shared(() => this.#exec(fn));
  }

  /** Runs an interactive transaction; on a single-connection database, alone. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const run = () => this.#exec((db) => db.$transaction(fn, TX_OPTIONS));
    return this.#lock === undefined ? run() : this.#lock.exclusive(run);
  }

  async #exec<T>(fn: (db: SqlClient) => Promise<T>): Promise<T> {
    if (this.#nested) {
      try {
        return await fn(this.client);
      } catch (error) {
        // A conflict aborts the whole transaction: its owner runs it again.
        if (isConflict(error)) throw error;
        throw toKvError(error);
      }
    }
    const started = performance.now();
    try {
      return await this.#attempt(fn);
    } finally {
      this.roundTrips.count++;
      this.roundTrips.seconds += (performance.now() - started) / 1000;
    }
  }

  async #attempt<T>(fn: (db: SqlClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.#prepare !== undefined) {
          this.#prepared ??= this.#prepare().catch((error: unknown) => {
            this.#prepared = undefined;
            throw error;
          });
          await this.#prepared;
        }
        return await fn(this.client);
      } catch (error) {
        // A statement or transaction the database aborted to break a deadlock changed nothing:
        // running it again is safe.
        if (attempt < CONFLICT_RETRIES && isConflict(error)) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
          continue;
        }
        throw toKvError(error);
      }
    }
  }

  /** A key, field or lock name as the database stores it. */
  enc(key: string): string {
    return this.dialect.encodeKey(key);
  }

  /** A stored key, field or lock name as the caller knows it. */
  dec(stored: unknown): string {
    return this.dialect.decodeKey(stored as string);
  }

  /** The row of `table` has not expired at `now`. */
  live(now: number, table: Sql = T_ENTRIES): Sql {
    return sql`(${table}."expires_at" IS NULL OR ${table}."expires_at" > ${now})`;
  }

  /**
   * Guards a field write: the key's entry is still a hash. Inside a real transaction this always
   * holds; on D1, whose "transactions" are separate statements, it keeps a field from outliving
   * a concurrent `set` of its key.
   */
  isHash(key: string): Sql {
    return sql`EXISTS (SELECT 1 FROM ${T_ENTRIES} WHERE ${T_ENTRIES}."key" = ${key} AND ${T_ENTRIES}."kind" = 'hash')`;
  }
}

/** An open transaction as a client: a transaction begun inside it runs in it. */
export function transactionClient(tx: SqlRunner): SqlClient {
  return {
    $queryRaw: (query) => tx.$queryRaw(query),
    $executeRaw: (query) => tx.$executeRaw(query),
    $transaction: (fn) => fn(tx),
    $disconnect: async () => {},
  };
}

/** A stored JSON text as its value. */
export function parseJson<T>(json: unknown): T {
  return JSON.parse(json as string) as T;
}
