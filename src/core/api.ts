/**
 * The native HTTP API of SPEC §3 as data: for each endpoint, the facts that both its server
 * (the command units in `src/commands/`) and its client (`src/client/`) need, so neither
 * writes them again. A test checks that every row has a command unit and a function file.
 */
export interface EndpointSpec {
  /** The HTTP method; a GET endpoint also answers HEAD. */
  readonly method: "GET" | "POST" | "DELETE";
  /** Whether it only reads, so that the read-only token may call it (SPEC §5). */
  readonly read: boolean;
  /** Whether L1 may answer it (SPEC §2, §4), so `Cache-Control: no-cache` applies. */
  readonly cacheable: boolean;
  /**
   * Whether sending it again after a lost answer is safe (same effect, same answer): a client
   * retries only these. A function of the input where options decide.
   */
  readonly retrySafe: boolean | ((input: Record<string, unknown>) => boolean);
  /** Whether it needs a token (`health` does not). */
  readonly public?: true;
}

const READ = { read: true, cacheable: false, retrySafe: true } as const;
const CACHED_READ = { method: "GET", read: true, cacheable: true, retrySafe: true } as const;
const WRITE = { method: "POST", read: false, cacheable: false, retrySafe: false } as const;

/** Every endpoint, by the last segment of its path. */
export const NATIVE_API = {
  // With nx/xx a repeated write can answer differently from the first.
  set: { ...WRITE, retrySafe: (input) => input.nx !== true && input.xx !== true },
  setex: { ...WRITE, retrySafe: true },
  get: CACHED_READ,
  // A retry after a lost answer would say 0 for a key the first call removed.
  delete: { ...WRITE, method: "DELETE" },
  exists: CACHED_READ,
  ttl: { ...READ, method: "GET" },
  expire: WRITE,
  incr: WRITE,
  decr: WRITE,
  hset: WRITE,
  hget: CACHED_READ,
  hgetall: CACHED_READ,
  hdel: WRITE,
  hincrby: WRITE,
  mset: { ...WRITE, retrySafe: true },
  mget: { ...CACHED_READ, method: "POST" },
  keys: { ...READ, method: "GET" },
  lock: WRITE,
  unlock: WRITE,
  // Resetting the TTL again answers the same while the token holds the lock.
  extend: { ...WRITE, retrySafe: true },
  health: { ...READ, method: "GET", public: true },
} as const satisfies Record<string, EndpointSpec>;

/** The name of an endpoint. */
export type EndpointName = keyof typeof NATIVE_API;

/** The names of all endpoints. */
export const ENDPOINT_NAMES = Object.keys(NATIVE_API) as EndpointName[];

/** The base path of every endpoint. */
export const BASE_PATH = "/api/kv";
