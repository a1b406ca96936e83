import { errorOfCode, InternalError, type KvError, UnavailableError } from "../core/errors.ts";

/**
 * The typed error for an error envelope: the `KvError` subclass of its code, so callers can
 * `catch (e) { if (e instanceof WrongTypeError) … }` exactly as with an embedded store.
 * A body that is not an envelope (a proxy's HTML page, say) becomes an error by status alone.
 */
export function errorFromEnvelope(status: number, body: unknown): KvError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const message = typeof error?.message === "string" ? error.message : `server answered HTTP ${status}`;
  const typed = typeof error?.code === "string" ? errorOfCode(error.code, message) : undefined;
  if (typed !== undefined) return typed;
  if (status === 503) return new UnavailableError(`server answered HTTP 503 without an error envelope`);
  return new InternalError(`server answered HTTP ${status} without an error envelope`);
}
