/** The tierkv client SDK (`tierkv/client`). */
export {
  BadRequestError,
  ForbiddenError,
  InternalError,
  InvalidKeyError,
  KvError,
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
export type { JsonValue, KeysOptions, KeysPage, LockResult, SetOptions } from "../store/types.ts";
export { errorFromEnvelope, LockBusyError, LockLostError } from "./errors.ts";
export { type ClientOptions, createClient, isKvError, KvClient, type WithLockOptions } from "./kv-client.ts";
