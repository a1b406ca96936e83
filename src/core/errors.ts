/**
 * Every error of tierkv, made from one table: a stable `code`, its HTTP `status` and the message
 * used when none is given. The wire codes are those of SPEC §2; the others are raised only in
 * process (configuration, the SDK's lock helpers) and never reach an envelope.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, name: "BadRequestError", message: "bad request" },
  INVALID_KEY: { status: 400, name: "InvalidKeyError", message: "invalid key" },
  VALUE_TOO_LARGE: { status: 413, name: "ValueTooLargeError", message: "value too large" },
  PAYLOAD_TOO_LARGE: { status: 413, name: "PayloadTooLargeError", message: "payload too large" },
  NOT_INTEGER: { status: 400, name: "NotIntegerError", message: "value is not an integer" },
  OVERFLOW: {
    status: 400,
    name: "OverflowError",
    message: "increment would overflow the safe integer range",
  },
  WRONGTYPE: {
    status: 409,
    name: "WrongTypeError",
    message: "operation against a key holding the wrong kind of value",
  },
  NOT_FOUND: { status: 404, name: "NotFoundError", message: "key not found" },
  UNAUTHORIZED: { status: 401, name: "UnauthorizedError", message: "missing or invalid bearer token" },
  FORBIDDEN: { status: 403, name: "ForbiddenError", message: "the read-only token cannot write" },
  METHOD_NOT_ALLOWED: { status: 405, name: "MethodNotAllowedError", message: "method not allowed" },
  UNAVAILABLE: { status: 503, name: "UnavailableError", message: "the database is unavailable" },
  // Only where the operator set a rate limit (KV_RATE_LIMIT_PER_TOKEN, KV_RATE_LIMIT_PER_ADDRESS).
  RATE_LIMITED: { status: 429, name: "RateLimitedError", message: "too many requests" },
  INTERNAL: { status: 500, name: "InternalError", message: "internal error" },
  // Raised in process only: never in an envelope.
  CONFIG: { status: 500, name: "ConfigError", message: "the configuration cannot be used" },
  LOCK_BUSY: { status: 409, name: "LockBusyError", message: "the lock is held by someone else" },
  LOCK_LOST: { status: 409, name: "LockLostError", message: "the lock was lost before the work finished" },
} as const satisfies Record<string, { status: number; name: string; message: string }>;

const IN_PROCESS_ONLY: ReadonlySet<string> = new Set(["CONFIG", "LOCK_BUSY", "LOCK_LOST"]);

/** Every error code. */
export type KvErrorCode = keyof typeof ERROR_CODES;

/** The codes an HTTP envelope carries (SPEC §2). */
export const WIRE_CODES = (Object.keys(ERROR_CODES) as KvErrorCode[]).filter((c) => !IN_PROCESS_ONLY.has(c));

/** HTTP status of each error code. */
export const ERROR_STATUS = Object.fromEntries(
  Object.entries(ERROR_CODES).map(([code, row]) => [code, row.status]),
) as Record<KvErrorCode, number>;

/** Options every error takes. */
export interface KvErrorOptions {
  cause?: unknown;
}

/** The one error type of tierkv: a stable `code`, its HTTP `status`, and the underlying `cause`. */
export class KvError extends Error {
  readonly code: KvErrorCode;
  readonly status: number;

  constructor(code: KvErrorCode, message?: string, options?: KvErrorOptions) {
    super(message ?? ERROR_CODES[code].message, options);
    this.name = ERROR_CODES[code].name;
    this.code = code;
    this.status = ERROR_CODES[code].status;
  }
}

/** The class of one code: `new NotIntegerError()` or `new NotIntegerError("…", { cause })`. */
export type KvErrorClass = new (message?: string, options?: KvErrorOptions) => KvError;

function errorClass(code: KvErrorCode): KvErrorClass {
  const Class = class extends KvError {
    constructor(message?: string, options?: KvErrorOptions) {
      super(code, message, options);
    }
  };
  Object.defineProperty(Class, "name", { value: ERROR_CODES[code].name });
  return Class;
}

/** The class of every code, so that an error read off the wire is `instanceof` its subclass. */
const CLASSES = Object.fromEntries(
  (Object.keys(ERROR_CODES) as KvErrorCode[]).map((code) => [code, errorClass(code)]),
) as Record<KvErrorCode, KvErrorClass>;

/** Malformed JSON, a missing or ill-typed field, an unknown option. */
export const BadRequestError = CLASSES.BAD_REQUEST;
export type BadRequestError = KvError;
/** An empty key or field, one over 256 bytes, or one that is not valid UTF-8. */
export const InvalidKeyError = CLASSES.INVALID_KEY;
export type InvalidKeyError = KvError;
/** A value whose JSON encoding exceeds 1 MiB. */
export const ValueTooLargeError = CLASSES.VALUE_TOO_LARGE;
export type ValueTooLargeError = KvError;
/** A request body over 16 MiB, or a batch of over 1,000 keys. */
export const PayloadTooLargeError = CLASSES.PAYLOAD_TOO_LARGE;
export type PayloadTooLargeError = KvError;
/** A counter operation on a value that is not an integer. */
export const NotIntegerError = CLASSES.NOT_INTEGER;
export type NotIntegerError = KvError;
/** A counter result outside ±(2^53−1). */
export const OverflowError = CLASSES.OVERFLOW;
export type OverflowError = KvError;
/** An operation against a key holding the other type. */
export const WrongTypeError = CLASSES.WRONGTYPE;
export type WrongTypeError = KvError;
/** A missing key or hash field (or an unknown path). */
export const NotFoundError = CLASSES.NOT_FOUND;
export type NotFoundError = KvError;
/** A missing or wrong bearer token. */
export const UnauthorizedError = CLASSES.UNAUTHORIZED;
export type UnauthorizedError = KvError;
/** A write with the read-only token. */
export const ForbiddenError = CLASSES.FORBIDDEN;
export type ForbiddenError = KvError;
/** A known path with the wrong method. */
export const MethodNotAllowedError = CLASSES.METHOD_NOT_ALLOWED;
export type MethodNotAllowedError = KvError;
/** The database cannot be reached; nothing was half-applied. */
export const UnavailableError = CLASSES.UNAVAILABLE;
export type UnavailableError = KvError;
/** The database did not answer within `KV_DB_TIMEOUT_MS`: a write may or may not have been applied. */
export class DatabaseTimeoutError extends UnavailableError {
  constructor(options?: KvErrorOptions) {
    super(
      "the database did not answer in time (KV_DB_TIMEOUT_MS); a write may or may not have been applied",
      options,
    );
  }
}
/** Over the rate limit the operator set; `Retry-After` says when to try again. */
export const RateLimitedError = CLASSES.RATE_LIMITED;
export type RateLimitedError = KvError;
/** Anything else; the details stay in the server log. */
export const InternalError = CLASSES.INTERNAL;
export type InternalError = KvError;
/** A configuration value that cannot be used; the message names the variable, never its value. */
export const ConfigError = CLASSES.CONFIG;
export type ConfigError = KvError;

/** `withLock` could not acquire the lock within its wait time; nothing ran. */
export class LockBusyError extends CLASSES.LOCK_BUSY {
  readonly key: string;

  constructor(key: string) {
    super(`lock "${key}" is held by someone else`);
    this.key = key;
  }
}

/** `withLock` lost its lock while the callback ran (it expired and could not be extended). */
export class LockLostError extends CLASSES.LOCK_LOST {
  readonly key: string;

  constructor(key: string) {
    super(`lock "${key}" was lost before the work finished`);
    this.key = key;
  }
}

/** The error of a wire code with this message (the subclass of the code), or undefined for an unknown code. */
export function errorOfCode(code: string, message: string): KvError | undefined {
  return (WIRE_CODES as string[]).includes(code) ? new CLASSES[code as KvErrorCode](message) : undefined;
}
