/** Stable error codes of the HTTP envelope (SPEC §2). */
export type KvErrorCode =
  | "BAD_REQUEST"
  | "INVALID_KEY"
  | "VALUE_TOO_LARGE"
  | "PAYLOAD_TOO_LARGE"
  | "NOT_INTEGER"
  | "OVERFLOW"
  | "WRONGTYPE"
  | "NOT_FOUND"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "METHOD_NOT_ALLOWED"
  | "UNAVAILABLE"
  | "INTERNAL";

/** HTTP status of each error code. */
export const ERROR_STATUS: Record<KvErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_KEY: 400,
  VALUE_TOO_LARGE: 413,
  PAYLOAD_TOO_LARGE: 413,
  NOT_INTEGER: 400,
  OVERFLOW: 400,
  WRONGTYPE: 409,
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  METHOD_NOT_ALLOWED: 405,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** The one error type of tierkv: a stable `code`, its HTTP `status`, and the underlying `cause`. */
export class KvError extends Error {
  readonly code: KvErrorCode;
  readonly status: number;

  constructor(code: KvErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KvError";
    this.code = code;
    this.status = ERROR_STATUS[code];
  }
}

/** Malformed JSON, a missing or ill-typed field, an unknown option. */
export class BadRequestError extends KvError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("BAD_REQUEST", message, options);
    this.name = "BadRequestError";
  }
}
/** An empty key or field, one over 256 bytes, or one that is not valid UTF-8. */
export class InvalidKeyError extends KvError {
  constructor(message: string) {
    super("INVALID_KEY", message);
    this.name = "InvalidKeyError";
  }
}
/** A value whose JSON encoding exceeds 1 MiB. */
export class ValueTooLargeError extends KvError {
  constructor(message: string) {
    super("VALUE_TOO_LARGE", message);
    this.name = "ValueTooLargeError";
  }
}
/** A request body over 16 MiB, or a batch of over 1,000 keys. */
export class PayloadTooLargeError extends KvError {
  constructor(message: string) {
    super("PAYLOAD_TOO_LARGE", message);
    this.name = "PayloadTooLargeError";
  }
}
/** A counter operation on a value that is not an integer. */
export class NotIntegerError extends KvError {
  constructor(message = "value is not an integer") {
    super("NOT_INTEGER", message);
    this.name = "NotIntegerError";
  }
}
/** A counter result outside ±(2^53−1). */
export class OverflowError extends KvError {
  constructor(message = "increment would overflow the safe integer range") {
    super("OVERFLOW", message);
    this.name = "OverflowError";
  }
}
/** An operation against a key holding the other type. */
export class WrongTypeError extends KvError {
  constructor(message = "operation against a key holding the wrong kind of value") {
    super("WRONGTYPE", message);
    this.name = "WrongTypeError";
  }
}
/** A missing key or hash field (or an unknown path). */
export class NotFoundError extends KvError {
  constructor(message = "key not found") {
    super("NOT_FOUND", message);
    this.name = "NotFoundError";
  }
}
/** A missing or wrong bearer token. */
export class UnauthorizedError extends KvError {
  constructor(message = "missing or invalid bearer token") {
    super("UNAUTHORIZED", message);
    this.name = "UnauthorizedError";
  }
}
/** A write with the read-only token. */
export class ForbiddenError extends KvError {
  constructor(message = "the read-only token cannot write") {
    super("FORBIDDEN", message);
    this.name = "ForbiddenError";
  }
}
/** A known path with the wrong method. */
export class MethodNotAllowedError extends KvError {
  constructor(message: string) {
    super("METHOD_NOT_ALLOWED", message);
    this.name = "MethodNotAllowedError";
  }
}
/** The database cannot be reached; nothing was half-applied. */
export class UnavailableError extends KvError {
  constructor(message = "the database is unavailable", options?: { cause?: unknown }) {
    super("UNAVAILABLE", message, options);
    this.name = "UnavailableError";
  }
}
/** Anything else; the details stay in the server log. */
export class InternalError extends KvError {
  constructor(message = "internal error", options?: { cause?: unknown }) {
    super("INTERNAL", message, options);
    this.name = "InternalError";
  }
}
