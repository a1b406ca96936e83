import { BadRequestError, InternalError, KvError, UnavailableError, WrongTypeError } from "../errors.ts";
import { type Dialect, raw, type Sql, sql } from "./dialect.ts";
import { compileGlob } from "./glob.ts";
import { RwLock } from "./rw-lock.ts";
import { snapshotGet, snapshotHGet, snapshotHGetAll, snapshotsMGet } from "./snapshot.ts";
import type {
  Clock,
  FieldSelection,
  JsonValue,
  KeysOptions,
  KeysPage,
  KvStore,
  LockResult,
  SetOptions,
  Snapshot,
  SnapshotSource,
} from "./types.ts";
import { SYSTEM_CLOCK } from "./types.ts";
import {
  addCounter,
  compareBytes,
  counterValue,
  decodeCursor,
  encodeCursor,
  keysLimit,
  keysPage,
  randomToken,
} from "./util.ts";

/** What `PrismaStore` needs of a Prisma client: raw queries and interactive transactions. */
export interface SqlRunner {
  $queryRaw<T = unknown>(query: Sql): Promise<T>;
  $executeRaw(query: Sql): Promise<number>;
}

/** A Prisma client of either provider. */
export interface SqlClient extends SqlRunner {
  $transaction<R>(
    fn: (tx: SqlRunner) => Promise<R>,
    options?: { maxWait?: number; timeout?: number },
  ): Promise<R>;
  $disconnect(): Promise<void>;
}

/** Options of `PrismaStore`. */
export interface PrismaStoreOptions {
  client: SqlClient;
  dialect: Dialect;
  clock?: Clock;
  /** Runs once before the first operation (the schema migration); failures are retried on the next call. */
  prepare?: () => Promise<void>;
  /** Called by `close()` after the client disconnects. */
  onClose?: () => Promise<void>;
  /**
   * Keep other statements out while a transaction is open. Needed where the client has one
   * connection (SQLite): a statement sent during someone's transaction would join it, and
   * be undone with it.
   */
  isolateTransactions?: boolean;
}

type Row = Record<string, unknown>;

const TX_OPTIONS = { maxWait: 5_000, timeout: 10_000 };
const KEYS_SCAN_BATCH = 1000;
/** Most batches one `keys` call reads. */
const KEYS_SCAN_BUDGET = 10;
const COUNTER_RETRIES = 5;
const CONFLICT_RETRIES = 4;

const T_ENTRIES = raw(`"kv_entries"`);
const T_FIELDS = raw(`"kv_hash_fields"`);
const T_LOCKS = raw(`"kv_locks"`);
const C_VALUE = raw(`"kv_entries"."value"`);
const C_FIELD_VALUE = raw(`"kv_hash_fields"."value"`);

/**
 * The store on a SQL database through Prisma: SQLite and PostgreSQL run the same statements,
 * and the few expressions that differ come from the `Dialect`. Each operation is one statement
 * (one round trip) except the hash writes, which are one short transaction.
 */
export class PrismaStore implements KvStore, SnapshotSource {
  readonly kind: "sqlite" | "postgresql";
  #client: SqlClient;
  #dialect: Dialect;
  #clock: Clock;
  #prepare: (() => Promise<void>) | undefined;
  #prepared: Promise<void> | undefined;
  #onClose: (() => Promise<void>) | undefined;
  #lock: RwLock | undefined;

  constructor(options: PrismaStoreOptions) {
    this.#client = options.client;
    this.#dialect = options.dialect;
    this.kind = options.dialect.name;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#prepare = options.prepare;
    this.#onClose = options.onClose;
    this.#lock = options.isolateTransactions ? new RwLock() : undefined;
  }

  /** Runs `fn` once the database is prepared, turning driver failures into `KvError`s. */
  #run<T>(fn: (db: SqlClient) => Promise<T>): Promise<T> {
    return this.#lock === undefined ? this.#exec(fn) : this.#lock.shared(() => this.#exec(fn));
  }

  /** Runs an interactive transaction; on a single-connection database, alone. */
  #transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const run = () => this.#exec((db) => db.$transaction(fn, TX_OPTIONS));
    return this.#lock === undefined ? run() : this.#lock.exclusive(run);
  }

  async #exec<T>(fn: (db: SqlClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.#prepare !== undefined) {
          this.#prepared ??= this.#prepare().catch((error: unknown) => {
            this.#prepared = undefined;
            throw error;
          });
          await this.#prepared;
        }
        return await fn(this.#client);
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

  #enc(key: string): string {
    return this.#dialect.encodeKey(key);
  }

  #dec(stored: unknown): string {
    return this.#dialect.decodeKey(stored as string);
  }

  /**
   * Guards a field write: the key's entry is still a hash. Inside a real transaction this always
   * holds; on D1, whose "transactions" are separate statements, it keeps a field from outliving
   * a concurrent `set` of its key.
   */
  #isHash(key: string): Sql {
    return sql`EXISTS (SELECT 1 FROM ${T_ENTRIES} WHERE ${T_ENTRIES}."key" = ${key} AND ${T_ENTRIES}."kind" = 'hash')`;
  }

  #live(now: number, table: Sql = T_ENTRIES): Sql {
    return sql`(${table}."expires_at" IS NULL OR ${table}."expires_at" > ${now})`;
  }

  async inspect(name: string, fields: FieldSelection = "none"): Promise<Snapshot> {
    const now = this.#clock.now();
    const key = this.#enc(name);
    const join =
      fields === "none"
        ? sql``
        : fields === "all"
          ? sql`LEFT JOIN ${T_FIELDS} f ON f."key" = e."key"`
          : sql`LEFT JOIN ${T_FIELDS} f ON f."key" = e."key" AND f."field" IN ${this.#dialect.list(fields.map((f) => this.#enc(f)))}`;
    const columns = fields === "none" ? sql`` : sql`, f."field" AS "field", f."value" AS "fvalue"`;
    const rows = await this.#run((db) =>
      db.$queryRaw<Row[]>(
        sql`SELECT e."kind" AS "kind", e."value" AS "value", e."expires_at" AS "expires_at" ${columns}
            FROM ${T_ENTRIES} e ${join} WHERE e."key" = ${key} AND ${this.#live(now, raw("e"))}
            ${fields === "all" ? sql`ORDER BY f."field"` : sql``}`,
      ),
    );
    const first = rows[0];
    if (first === undefined) return { kind: "none" };
    const expiresAt = first.expires_at === null ? null : Number(first.expires_at);
    if (first.kind === "string") return { kind: "string", value: parse(first.value), expiresAt };
    const map = new Map<string, JsonValue | undefined>();
    if (Array.isArray(fields)) for (const f of fields) map.set(f, undefined);
    for (const row of rows) if (row.field != null) map.set(this.#dec(row.field), parse(row.fvalue));
    return { kind: "hash", expiresAt, fields: map, complete: fields === "all" };
  }

  async inspectMany(keys: string[]): Promise<Map<string, Snapshot>> {
    const now = this.#clock.now();
    const rows = await this.#run((db) =>
      db.$queryRaw<Row[]>(
        sql`SELECT "key", "kind", "value", "expires_at" FROM ${T_ENTRIES}
            WHERE "key" IN ${this.#dialect.list(keys.map((k) => this.#enc(k)))} AND ${this.#live(now)}`,
      ),
    );
    const out = new Map<string, Snapshot>();
    for (const key of keys) out.set(key, { kind: "none" });
    for (const row of rows) {
      const expiresAt = row.expires_at === null ? null : Number(row.expires_at);
      out.set(
        this.#dec(row.key),
        row.kind === "string"
          ? { kind: "string", value: parse(row.value), expiresAt }
          : { kind: "hash", expiresAt, fields: new Map(), complete: false },
      );
    }
    return out;
  }

  async get(key: string): Promise<JsonValue | undefined> {
    return snapshotGet(await this.inspect(key));
  }

  async set(name: string, value: JsonValue, options: SetOptions = {}): Promise<boolean> {
    const key = this.#enc(name);
    const now = this.#clock.now();
    const json = JSON.stringify(value);
    const expiresAt = options.ttlMs === undefined ? null : now + options.ttlMs;
    if (options.xx) {
      const n = await this.#run((db) =>
        db.$executeRaw(
          sql`UPDATE ${T_ENTRIES} SET "kind" = 'string', "value" = ${json}, "expires_at" = ${expiresAt}
              WHERE "key" = ${key} AND ${this.#live(now)}`,
        ),
      );
      return n > 0;
    }
    const onlyIfExpired = options.nx
      ? sql`WHERE ${T_ENTRIES}."expires_at" IS NOT NULL AND ${T_ENTRIES}."expires_at" <= ${now}`
      : sql``;
    const n = await this.#run((db) =>
      db.$executeRaw(
        sql`INSERT INTO ${T_ENTRIES} ("key", "kind", "value", "expires_at") VALUES (${key}, 'string', ${json}, ${expiresAt})
            ON CONFLICT ("key") DO UPDATE SET "kind" = 'string', "value" = excluded."value", "expires_at" = excluded."expires_at"
            ${onlyIfExpired}`,
      ),
    );
    return n > 0;
  }

  async setEx(key: string, value: JsonValue, ttlMs: number): Promise<true> {
    await this.set(key, value, { ttlMs });
    return true;
  }

  async delete(name: string): Promise<number> {
    const key = this.#enc(name);
    const now = this.#clock.now();
    const n = await this.#run((db) =>
      db.$executeRaw(sql`DELETE FROM ${T_ENTRIES} WHERE "key" = ${key} AND ${this.#live(now)}`),
    );
    return n > 0 ? 1 : 0;
  }

  async exists(key: string): Promise<boolean> {
    return (await this.inspect(key)).kind !== "none";
  }

  async ttl(name: string): Promise<number> {
    const key = this.#enc(name);
    const now = this.#clock.now();
    const rows = await this.#run((db) =>
      db.$queryRaw<Row[]>(
        sql`SELECT "expires_at" FROM ${T_ENTRIES} WHERE "key" = ${key} AND ${this.#live(now)}`,
      ),
    );
    const row = rows[0];
    if (row === undefined) return -2;
    return row.expires_at === null ? -1 : Number(row.expires_at) - now;
  }

  async expire(name: string, ttlMs: number): Promise<boolean> {
    const key = this.#enc(name);
    const now = this.#clock.now();
    const n = await this.#run((db) =>
      db.$executeRaw(
        sql`UPDATE ${T_ENTRIES} SET "expires_at" = ${now + ttlMs} WHERE "key" = ${key} AND ${this.#live(now)}`,
      ),
    );
    return n > 0;
  }

  async incr(key: string): Promise<number> {
    return this.incrBy(key, 1);
  }

  async decr(key: string, by = 1): Promise<number> {
    return this.incrBy(key, -by);
  }

  async incrBy(name: string, by: number): Promise<number> {
    const key = this.#enc(name);
    const step = counterStep(by);
    // One conditional upsert does the whole update; only when it refuses do we read the
    // row to say why (WRONGTYPE, NOT_INTEGER, OVERFLOW). A value changed in between is retried.
    for (let attempt = 0; attempt < COUNTER_RETRIES; attempt++) {
      const now = this.#clock.now();
      const current = this.#dialect.counter(C_VALUE);
      const expired = sql`(${T_ENTRIES}."expires_at" IS NOT NULL AND ${T_ENTRIES}."expires_at" <= ${now})`;
      const rows = await this.#run((db) =>
        db.$queryRaw<Row[]>(
          sql`INSERT INTO ${T_ENTRIES} ("key", "kind", "value", "expires_at") VALUES (${key}, 'string', ${String(by)}, NULL)
              ON CONFLICT ("key") DO UPDATE SET
                "kind" = 'string',
                "value" = CASE WHEN ${expired} THEN ${String(by)} ELSE CAST(${current} + ${step} AS TEXT) END,
                "expires_at" = CASE WHEN ${expired} THEN NULL ELSE ${T_ENTRIES}."expires_at" END
              WHERE ${expired} OR (${T_ENTRIES}."kind" = 'string' AND abs(${current} + ${step}) <= ${raw(String(Number.MAX_SAFE_INTEGER))})
              RETURNING "value"`,
        ),
      );
      const row = rows[0];
      if (row !== undefined) return Number(row.value);
      const existing = await this.#run((db) =>
        db.$queryRaw<Row[]>(
          sql`SELECT "kind", "value" FROM ${T_ENTRIES} WHERE "key" = ${key} AND ${this.#live(now)}`,
        ),
      );
      const found = existing[0];
      if (found !== undefined) {
        if (found.kind !== "string") throw new WrongTypeError();
        addCounter(counterValue(JSON.parse(found.value as string) as JsonValue), by);
      }
    }
    throw new InternalError("counter update kept conflicting");
  }

  /** Inside a hash write: drops the key if it expired, then locks its header row. */
  async #hashHeader(tx: SqlRunner, key: string, now: number, create: boolean): Promise<boolean> {
    await tx.$executeRaw(
      sql`DELETE FROM ${T_ENTRIES} WHERE "key" = ${key} AND "expires_at" IS NOT NULL AND "expires_at" <= ${now}`,
    );
    const rows = create
      ? await tx.$queryRaw<Row[]>(
          sql`INSERT INTO ${T_ENTRIES} ("key", "kind", "value", "expires_at") VALUES (${key}, 'hash', NULL, NULL)
              ON CONFLICT ("key") DO UPDATE SET "kind" = ${T_ENTRIES}."kind" RETURNING "kind"`,
        )
      : await tx.$queryRaw<Row[]>(
          sql`UPDATE ${T_ENTRIES} SET "kind" = "kind" WHERE "key" = ${key} RETURNING "kind"`,
        );
    const row = rows[0];
    if (row === undefined) return false;
    if (row.kind !== "hash") throw new WrongTypeError();
    return true;
  }

  async hSet(name: string, fields: Record<string, JsonValue>): Promise<number> {
    const key = this.#enc(name);
    const names = Object.keys(fields);
    const stored = names.map((f) => this.#enc(f));
    const values = names.map((f, i) => [key, stored[i] as string, JSON.stringify(fields[f])]);
    for (let attempt = 0; attempt < COUNTER_RETRIES; attempt++) {
      const created = await this.#transaction(async (tx) => {
        await this.#hashHeader(tx, key, this.#clock.now(), true);
        const before = await tx.$queryRaw<Row[]>(
          sql`SELECT COUNT(*) AS "n" FROM ${T_FIELDS} WHERE "key" = ${key} AND "field" IN ${this.#dialect.list(stored)}`,
        );
        const written = await tx.$executeRaw(
          sql`INSERT INTO ${T_FIELDS} ("key", "field", "value")
                SELECT * FROM (${this.#dialect.rows(values)}) AS "r" WHERE ${this.#isHash(key)}
                ON CONFLICT ("key", "field") DO UPDATE SET "value" = excluded."value"`,
        );
        // Only without isolated transactions (D1) can the hash vanish between two statements: again.
        return written === 0 ? undefined : names.length - Number(before[0]?.n ?? 0);
      });
      if (created !== undefined) return created;
    }
    throw new InternalError("hash update kept conflicting");
  }

  async hGet(key: string, field: string): Promise<JsonValue | undefined> {
    return snapshotHGet(await this.inspect(key, [field]), field);
  }

  async hGetAll(key: string): Promise<Record<string, JsonValue>> {
    return snapshotHGetAll(await this.inspect(key, "all"));
  }

  async hDel(name: string, fields: string[]): Promise<number> {
    const key = this.#enc(name);
    return this.#transaction(async (tx) => {
      if (!(await this.#hashHeader(tx, key, this.#clock.now(), false))) return 0;
      const removed = await tx.$executeRaw(
        sql`DELETE FROM ${T_FIELDS} WHERE "key" = ${key} AND "field" IN ${this.#dialect.list([...new Set(fields)].map((f) => this.#enc(f)))}`,
      );
      await tx.$executeRaw(
        sql`DELETE FROM ${T_ENTRIES} WHERE "key" = ${key}
              AND NOT EXISTS (SELECT 1 FROM ${T_FIELDS} WHERE ${T_FIELDS}."key" = ${key})`,
      );
      return removed;
    });
  }

  async hIncrBy(name: string, fieldName: string, by: number): Promise<number> {
    const key = this.#enc(name);
    const field = this.#enc(fieldName);
    const step = counterStep(by);
    const current = this.#dialect.counter(C_FIELD_VALUE);
    for (let attempt = 0; attempt < COUNTER_RETRIES; attempt++) {
      const result = await this.#transaction(async (tx) => {
        await this.#hashHeader(tx, key, this.#clock.now(), true);
        const rows = await tx.$queryRaw<Row[]>(
          sql`INSERT INTO ${T_FIELDS} ("key", "field", "value")
                SELECT ${key}, ${field}, ${String(by)} WHERE ${this.#isHash(key)}
                ON CONFLICT ("key", "field") DO UPDATE SET "value" = CAST(${current} + ${step} AS TEXT)
                WHERE abs(${current} + ${step}) <= ${raw(String(Number.MAX_SAFE_INTEGER))}
                RETURNING "value"`,
        );
        const row = rows[0];
        if (row !== undefined) return Number(row.value);
        const existing = await tx.$queryRaw<Row[]>(
          sql`SELECT e."kind" AS "kind", f."value" AS "value" FROM ${T_ENTRIES} e
              LEFT JOIN ${T_FIELDS} f ON f."key" = e."key" AND f."field" = ${field}
              WHERE e."key" = ${key}`,
        );
        const found = existing[0];
        if (found?.kind === "string") throw new WrongTypeError();
        if (found?.value != null) addCounter(counterValue(parse(found.value)), by);
        // Only without isolated transactions (D1) can the hash vanish between two statements: again.
        return undefined;
      });
      if (result !== undefined) return result;
    }
    throw new InternalError("hash counter update kept conflicting");
  }

  async lock(name: string, ttlMs: number): Promise<LockResult> {
    const key = this.#enc(name);
    const now = this.#clock.now();
    const token = randomToken();
    const rows = await this.#run((db) =>
      db.$queryRaw<Row[]>(
        sql`INSERT INTO ${T_LOCKS} ("name", "token", "expires_at") VALUES (${key}, ${token}, ${now + ttlMs})
            ON CONFLICT ("name") DO UPDATE SET "token" = excluded."token", "expires_at" = excluded."expires_at"
            WHERE ${T_LOCKS}."expires_at" <= ${now}
            RETURNING "token"`,
      ),
    );
    return rows[0]?.token === token ? { acquired: true, token } : { acquired: false, token: null };
  }

  async unlock(name: string, token: string): Promise<boolean> {
    const key = this.#enc(name);
    const now = this.#clock.now();
    const n = await this.#run((db) =>
      db.$executeRaw(
        sql`DELETE FROM ${T_LOCKS} WHERE "name" = ${key} AND "token" = ${token} AND "expires_at" > ${now}`,
      ),
    );
    return n > 0;
  }

  async extend(name: string, token: string, ttlMs: number): Promise<boolean> {
    const key = this.#enc(name);
    const now = this.#clock.now();
    const n = await this.#run((db) =>
      db.$executeRaw(
        sql`UPDATE ${T_LOCKS} SET "expires_at" = ${now + ttlMs}
            WHERE "name" = ${key} AND "token" = ${token} AND "expires_at" > ${now}`,
      ),
    );
    return n > 0;
  }

  async mSet(pairs: Record<string, JsonValue>, options: { ttlMs?: number } = {}): Promise<true> {
    const now = this.#clock.now();
    const expiresAt = options.ttlMs === undefined ? null : now + options.ttlMs;
    // Rows in key order: concurrent batches then lock their keys in one order and cannot deadlock.
    const rows = Object.keys(pairs)
      .sort(compareBytes)
      .map((key) => [this.#enc(key), "string", JSON.stringify(pairs[key]), expiresAt]);
    await this.#run((db) =>
      db.$executeRaw(
        sql`INSERT INTO ${T_ENTRIES} ("key", "kind", "value", "expires_at") ${this.#dialect.rows(rows)}
            ON CONFLICT ("key") DO UPDATE SET "kind" = 'string', "value" = excluded."value", "expires_at" = excluded."expires_at"`,
      ),
    );
    return true;
  }

  async mGet(keys: string[]): Promise<Record<string, JsonValue>> {
    return snapshotsMGet(keys, await this.inspectMany(keys));
  }

  async keys(options: KeysOptions = {}): Promise<KeysPage> {
    const limit = keysLimit(options.limit);
    const glob = compileGlob(options.pattern ?? "*");
    let after = decodeCursor(options.cursor);
    const now = this.#clock.now();
    const found: string[] = [];
    // Scan in key order from the pattern's literal prefix, until one match past the page
    // (so that a null cursor really means the end) or past the last key with that prefix.
    // A sparse pattern over a large keyspace stops after a bounded scan with a short page and a
    // cursor where it stopped, as Redis SCAN does, instead of reading the whole table at once.
    for (let batch = 0; ; batch++) {
      if (batch === KEYS_SCAN_BUDGET && after !== null) return { keys: found, cursor: encodeCursor(after) };
      const from =
        after !== null && compareBytes(after, glob.prefix) >= 0
          ? sql`"key" > ${this.#enc(after)}`
          : sql`"key" >= ${this.#enc(glob.prefix)}`;
      const rows = await this.#run((db) =>
        db.$queryRaw<Row[]>(
          sql`SELECT "key" FROM ${T_ENTRIES} WHERE ${from} AND ${this.#live(now)}
              ORDER BY "key" LIMIT ${KEYS_SCAN_BATCH}`,
        ),
      );
      for (const row of rows) {
        const key = this.#dec(row.key);
        if (!key.startsWith(glob.prefix)) return keysPage(found, limit);
        if (glob.test(key)) {
          found.push(key);
          if (found.length > limit) return keysPage(found, limit);
        }
        after = key;
      }
      if (rows.length < KEYS_SCAN_BATCH) return keysPage(found, limit);
    }
  }

  async sweep(): Promise<number> {
    const now = this.#clock.now();
    return this.#run(async (db) => {
      const entries = await db.$executeRaw(
        sql`DELETE FROM ${T_ENTRIES} WHERE "expires_at" IS NOT NULL AND "expires_at" <= ${now}`,
      );
      const locks = await db.$executeRaw(sql`DELETE FROM ${T_LOCKS} WHERE "expires_at" <= ${now}`);
      return entries + locks;
    });
  }

  async ping(): Promise<void> {
    await this.#run((db) => db.$queryRaw(sql`SELECT 1 AS "one"`));
  }

  async close(): Promise<void> {
    await this.#client.$disconnect();
    await this.#onClose?.();
  }
}

/**
 * The increment as an SQL literal (so that both databases add integers, whatever type a bound
 * parameter would get). Only a safe integer can become one: nothing else reaches the SQL text.
 */
function counterStep(by: number): Sql {
  if (!Number.isSafeInteger(by)) throw new BadRequestError("by must be an integer within ±(2^53−1)");
  return raw(BigInt(by).toString());
}

function parse(json: unknown): JsonValue {
  return JSON.parse(json as string) as JsonValue;
}

/** PostgreSQL's deadlock and serialization failures: the work was rolled back and may be retried. */
function isConflict(error: unknown): boolean {
  return /\b(40P01|40001)\b|deadlock detected|could not serialize/.test(
    String((error as Error)?.message ?? ""),
  );
}

/**
 * Failures to open the database at all: PostgreSQL connection, authentication and missing
 * database errors (classes 08, 28, 3D, 57P, 53300), and SQLite files that cannot be opened.
 */
const CANNOT_CONNECT =
  /^(08...|28...|3D000|57P0[1-3]|53300|SQLITE_CANTOPEN|SQLITE_NOTADB|EACCES|EROFS|ENOTDIR|EEXIST|ENOENT)$/;

function unavailable(error: unknown): UnavailableError {
  return new UnavailableError("the database is unavailable", { cause: error });
}

const UNAVAILABLE_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028"]);
const UNAVAILABLE_PATTERN =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|Connection terminated|connection timeout|timeout exceeded when trying to connect|Can't reach database|database is locked|SQLITE_BUSY|Server has closed the connection|the database system is (starting up|shutting down)|terminating connection|does not support SSL|SSL connection|certificate|self[- ]signed|ERR_TLS|EPROTO/i;

/** Turns a driver or Prisma failure into a `KvError`: `UNAVAILABLE` when the database cannot be reached. */
export function toKvError(error: unknown): KvError {
  if (error instanceof KvError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const causeCode = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code === "string" && CANNOT_CONNECT.test(code)) return unavailable(error);
  if (typeof causeCode === "string" && CANNOT_CONNECT.test(causeCode)) return unavailable(error);
  const text = `${(error as Error)?.message ?? ""} ${String((error as { cause?: unknown })?.cause ?? "")}`;
  if ((typeof code === "string" && UNAVAILABLE_CODES.has(code)) || UNAVAILABLE_PATTERN.test(text)) {
    return new UnavailableError("the database is unavailable", { cause: error });
  }
  return new InternalError("internal error", { cause: error });
}
