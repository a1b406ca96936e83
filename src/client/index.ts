/** The tierkv client SDK (`tierkv/client`). */
export {
  BadRequestError,
  ConfigError,
  ForbiddenError,
  InternalError,
  InvalidKeyError,
  KvError,
  type KvErrorCode,
  LockBusyError,
  LockLostError,
  MethodNotAllowedError,
  NotFoundError,
  NotIntegerError,
  OverflowError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnavailableError,
  ValueTooLargeError,
  WrongTypeError,
} from "../core/errors.ts";
export type { JsonValue, KeysOptions, KeysPage, LockResult, SetOptions } from "../core/types.ts";
export { errorFromEnvelope } from "./errors.ts";
export { type ClientOptions, createClient, isKvError, KvClient, type WithLockOptions } from "./kv-client.ts";
