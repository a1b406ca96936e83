/** Any JSON value a key or hash field can hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A source of the current time in epoch milliseconds; injected so TTL tests can use fake time. */
export interface Clock {
  now(): number;
}

/** The wall clock. */
export const SYSTEM_CLOCK: Clock = { now: () => Date.now() };

/** Options of `set`. */
export interface SetOptions {
  /** Expire the key after this many milliseconds; without it the key never expires. */
  ttlMs?: number;
  /** Write only if the key does not exist. */
  nx?: boolean;
  /** Write only if the key exists. */
  xx?: boolean;
}

/** Options of `keys`. */
export interface KeysOptions {
  /** Redis glob pattern; `*` when absent. */
  pattern?: string;
  /** Page size, 1…1000; 1000 when absent. */
  limit?: number;
  /** The cursor of the previous page. */
  cursor?: string | null;
  /** What `?` and a class match: a character (default, SPEC §3) or, as in Redis, a UTF-8 byte. */
  glob?: "characters" | "bytes";
}

/** One page of a `keys` listing; `cursor` is null when the listing is complete. */
export interface KeysPage {
  keys: string[];
  cursor: string | null;
}

/** The answer of `lock`. */
export interface LockResult {
  acquired: boolean;
  token: string | null;
}

/** Which backend a store talks to. */
export type StoreKind = "memory" | "sqlite" | "postgresql" | "d1";

/**
 * A JSON value as its encoded text: what a read answers when the text is at hand, so that the
 * HTTP layer sends it as is instead of parsing and encoding it again.
 */
export class JsonText {
  readonly json: string;

  constructor(json: string) {
    this.json = json;
  }

  /** A fresh copy of the value. */
  parse(): JsonValue {
    return JSON.parse(this.json) as JsonValue;
  }

  toJSON(): JsonValue {
    return this.parse();
  }
}

/** An object with no prototype, so that keys such as `__proto__` are plain own properties. */
export function createRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * A value now, or later. The hot reads are answered from L1 without waiting, and a promise
 * where none is needed costs a turn of the microtask queue at every level it passes through.
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * `f` of the value: at once when it is at hand, once it arrives otherwise. (Not named `then`: a
 * module exporting `then` is taken for a promise by `import()`.)
 */
export function chain<T, U>(value: MaybePromise<T>, f: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** `f()`, with `onError` answering what it throws at once or what its promise rejects with. */
export function attempt<T>(
  f: () => MaybePromise<T>,
  onError: (error: unknown) => MaybePromise<T>,
): MaybePromise<T> {
  let value: MaybePromise<T>;
  try {
    value = f();
  } catch (error) {
    return onError(error);
  }
  return value instanceof Promise ? value.catch(onError) : value;
}
