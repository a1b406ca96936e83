/** How much an instance logs, least to most: `silent` logs nothing. */
export const LOG_LEVELS = ["silent", "fatal", "error", "warn", "info", "debug", "trace"] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Where an instance writes its structured log: one JSON object per line, with fields of its own
 * and a message. pino's loggers have this shape; `jsonConsoleLogger` is the one without pino.
 * No call ever passes a value, a token or a query string.
 */
export interface Logger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
  /** Whether a line at `level` would be written (so a caller can skip building it). */
  isLevelEnabled(level: Exclude<LogLevel, "silent">): boolean;
}

const RANK: Record<LogLevel, number> = {
  silent: 0,
  fatal: 1,
  error: 2,
  warn: 3,
  info: 4,
  debug: 5,
  trace: 6,
};

/** pino's numeric levels, so that both loggers write the same lines. */
const PINO_LEVEL = { error: 50, warn: 40, info: 30, debug: 20 } as const;

/** Errors as JSON: their name, message, code and cause, which `JSON.stringify` would drop. */
function errorFields(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const e = error as Error & { code?: unknown };
  return {
    type: e.name,
    message: e.message,
    ...(e.code !== undefined ? { code: e.code } : {}),
    stack: e.stack,
    ...(e.cause !== undefined ? { cause: errorFields(e.cause) } : {}),
  };
}

/**
 * A logger writing pino's JSON lines through `console` (serverless platforms collect those), at
 * `level` and above.
 */
export function jsonConsoleLogger(level: LogLevel = "info"): Logger {
  const max = RANK[level];
  const write =
    (name: keyof typeof PINO_LEVEL) =>
    (fields: object, message: string): void => {
      if (RANK[name] > max) return;
      const line = { level: PINO_LEVEL[name], time: Date.now(), ...fields, msg: message };
      if ("err" in line) line.err = errorFields(line.err);
      const text = JSON.stringify(line);
      if (RANK[name] <= RANK.warn) console.error(text);
      else console.log(text);
    };
  return {
    error: write("error"),
    warn: write("warn"),
    info: write("info"),
    debug: write("debug"),
    isLevelEnabled: (name) => RANK[name] <= max,
  };
}
