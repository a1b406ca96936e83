import {
  BadRequestError,
  ForbiddenError,
  InternalError,
  InvalidKeyError,
  type KvError,
  type KvErrorCode,
  MethodNotAllowedError,
  NotFoundError,
  NotIntegerError,
  OverflowError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnavailableError,
  ValueTooLargeError,
  WrongTypeError,
} from "../errors.ts";

const FACTORIES: Record<KvErrorCode, (message: string) => KvError> = {
  BAD_REQUEST: (m) => new BadRequestError(m),
  INVALID_KEY: (m) => new InvalidKeyError(m),
  VALUE_TOO_LARGE: (m) => new ValueTooLargeError(m),
  PAYLOAD_TOO_LARGE: (m) => new PayloadTooLargeError(m),
  NOT_INTEGER: (m) => new NotIntegerError(m),
  OVERFLOW: (m) => new OverflowError(m),
  WRONGTYPE: (m) => new WrongTypeError(m),
  NOT_FOUND: (m) => new NotFoundError(m),
  UNAUTHORIZED: (m) => new UnauthorizedError(m),
  FORBIDDEN: (m) => new ForbiddenError(m),
  METHOD_NOT_ALLOWED: (m) => new MethodNotAllowedError(m),
  UNAVAILABLE: (m) => new UnavailableError(m),
  INTERNAL: (m) => new InternalError(m),
};

/**
 * The typed error for an error envelope: the `KvError` subclass of its code, so callers can
 * `catch (e) { if (e instanceof WrongTypeError) … }` exactly as with an embedded store.
 * A body that is not an envelope (a proxy's HTML page, say) becomes an error by status alone.
 */
export function errorFromEnvelope(status: number, body: unknown): KvError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = error?.code;
  const message = typeof error?.message === "string" ? error.message : `server answered HTTP ${status}`;
  if (typeof code === "string" && Object.hasOwn(FACTORIES, code)) {
    return (FACTORIES[code as KvErrorCode] as (m: string) => KvError)(message);
  }
  if (status === 503) return new UnavailableError(`server answered HTTP 503 without an error envelope`);
  return new InternalError(`server answered HTTP ${status} without an error envelope`);
}

/** `withLock` could not acquire the lock within its wait time; nothing ran. */
export class LockBusyError extends Error {
  readonly key: string;

  constructor(key: string) {
    super(`lock "${key}" is held by someone else`);
    this.name = "LockBusyError";
    this.key = key;
  }
}

/** `withLock` lost its lock while the callback ran (it expired and could not be extended). */
export class LockLostError extends Error {
  readonly key: string;

  constructor(key: string) {
    super(`lock "${key}" was lost before the work finished`);
    this.name = "LockLostError";
    this.key = key;
  }
}
