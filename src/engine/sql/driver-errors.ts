import { DatabaseTimeoutError, InternalError, KvError, UnavailableError } from "../../core/errors.ts";

/** What a Prisma driver adapter reports of a driver failure (`DriverAdapterError.cause`). */
interface AdapterFailure {
  kind: string;
  originalCode?: string;
  originalMessage?: string;
  message?: string;
  reason?: string;
}

/** The adapter's description of a failure, when the error came through a driver adapter. */
function adapterFailure(error: unknown): AdapterFailure | undefined {
  const e = error as { name?: unknown; cause?: unknown } | null;
  return e?.name === "DriverAdapterError" && typeof e.cause === "object" && e.cause !== null
    ? (e.cause as AdapterFailure)
    : undefined;
}

/** The adapter kinds that mean the database cannot be reached or used right now. */
const UNAVAILABLE_KINDS = new Set([
  "DatabaseNotReachable",
  "DatabaseDoesNotExist",
  "DatabaseAccessDenied",
  "AuthenticationFailed",
  "ConnectionClosed",
  "SocketTimeout",
  "TlsConnectionError",
  "TooManyConnections",
]);

/**
 * The database did not answer in time: node-postgres's own timeouts (a statement, a new
 * connection) and PostgreSQL's statement timeout (57014).
 */
export function isTimeout(error: unknown): boolean {
  const failure = adapterFailure(error);
  const text = `${(error as Error)?.message ?? ""} ${String((error as { cause?: unknown })?.cause ?? "")} ${failure?.originalCode ?? ""} ${failure?.originalMessage ?? ""}`;
  return /Query read timeout|timeout exceeded when trying to connect|Connection terminated due to connection timeout|\b57014\b|canceling statement due to statement timeout/.test(
    text,
  );
}

/** PostgreSQL's deadlock and serialization failures: the work was rolled back and may be retried. */
export function isConflict(error: unknown): boolean {
  const failure = adapterFailure(error);
  if (failure?.kind === "TransactionWriteConflict") return true;
  const text = `${(error as Error)?.message ?? ""} ${failure?.originalCode ?? ""} ${failure?.originalMessage ?? ""}`;
  return /\b(40P01|40001)\b|deadlock detected|could not serialize/.test(text);
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
  if (isTimeout(error)) {
    return new DatabaseTimeoutError({ cause: error });
  }
  const failure = adapterFailure(error);
  if (failure !== undefined) {
    // The log says what the driver said; the client only ever sees the code and a fixed message.
    const said = failure.originalMessage ?? failure.message ?? failure.reason ?? failure.kind;
    const cause = new Error(said, { cause: error });
    const code = failure.originalCode ?? "";
    if (UNAVAILABLE_KINDS.has(failure.kind) || CANNOT_CONNECT.test(code) || UNAVAILABLE_PATTERN.test(said)) {
      return unavailable(cause);
    }
    return new InternalError("internal error", { cause });
  }
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
