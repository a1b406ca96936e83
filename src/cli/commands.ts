import { parseArgs } from "node:util";
import { createClient, isKvError, type KvClient } from "../client/index.ts";
import type { JsonValue } from "../core/types.ts";

/** Exit codes of `tierkv`. */
export const EXIT = {
  /** The command ran (a missing key included: it prints `(nil)`). */
  OK: 0,
  /** The server answered an error, or could not be reached. */
  ERROR: 1,
  /** The command line is wrong: unknown command or option, missing or extra arguments. */
  USAGE: 2,
} as const;

/** Where the CLI writes; the real process passes its stdout and stderr. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

export const USAGE = `Usage: tierkv <command> [arguments] [options]

Server:
  serve                        start the Node server (configured like npm start: DATABASE_URL,
                               PORT, HOST, KV_TOKEN, …; --port, --host, --database-url override)
  migrate                      apply pending migrations to DATABASE_URL (or --database-url)

Commands against a server (KV_URL and KV_TOKEN, or --url and --token):
  get KEY                      the value, or (nil)
  set KEY VALUE                store VALUE (JSON when it parses as JSON, else a string);
                               --ttl 60s (ms, s, m, h; a bare number is ms), --nx, --xx, --string
  mget KEY [KEY…]              the values, in order, (nil) for each missing key
  mset KEY VALUE [KEY VALUE…]  store several values at once (all or none); --ttl, --string
  del KEY [KEY…]               delete keys; answers how many existed
  exists KEY                   1 or 0
  ttl KEY                      milliseconds left; -1 without expiry, -2 when missing
  expire KEY TTL               set a TTL (as --ttl); 1, or 0 when the key is missing
  incr KEY [BY]                add BY (default 1) to an integer; answers the new value
  decr KEY [BY]                subtract BY (default 1)
  hget KEY FIELD               one field of a hash, or (nil)
  hset KEY FIELD VALUE [FIELD VALUE…]   set fields (values as for set); answers how many are new
  hdel KEY FIELD [FIELD…]      delete fields of a hash; answers how many existed
  hgetall KEY                  every field of a hash
  keys [PATTERN]               every key matching the glob (default *), paging through cursors

Options:
  --url URL        the server (default $KV_URL, else http://127.0.0.1:8787)
  --token TOKEN    the bearer token (default $KV_TOKEN); never printed
  --json           print the result as JSON instead of redis-cli's style
  -h, --help       this text

Exit codes: 0 done (a missing key too), 1 the server answered an error or could not be reached,
2 usage error.
`;

class UsageError extends Error {}

const OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  ttl: { type: "string" },
  nx: { type: "boolean" },
  xx: { type: "boolean" },
  string: { type: "boolean" },
  port: { type: "string" },
  host: { type: "string" },
  "database-url": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Flags = ReturnType<typeof parse>["flags"];

// parseArgs takes `-5` for an option: negative numbers (incr k -5) are kept as arguments.
const NEGATIVE = /^-\d/;
const MARK = "\u0000";

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv.map((arg) => (NEGATIVE.test(arg) ? MARK + arg : arg)),
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const unmark = (arg: string) => (arg.startsWith(MARK) ? arg.slice(1) : arg);
  const flags = Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, typeof value === "string" ? unmark(value) : value]),
  ) as typeof values;
  return { flags, args: positionals.map(unmark) };
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `60s`, `5m`, `1500ms`, `2h` or a bare number of milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text);
  const ms = match === null ? Number.NaN : Number(match[1]) * (UNITS[match[2] ?? "ms"] as number);
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new UsageError(
      `a TTL is a positive number with ms, s, m or h (60s, 1500ms), not ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

/** A value from the command line: its JSON when it is valid JSON, else the text as a string. */
export function parseValue(text: string, asString: boolean): JsonValue {
  if (asString) return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

function integerArg(text: string | undefined, name: string): number {
  if (text === undefined) return 1;
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${name} must be an integer, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** What a command answered, in the shape redis-cli prints it. */
type Reply =
  | { kind: "value"; value: JsonValue | undefined }
  | { kind: "integer"; value: number }
  | { kind: "ok"; done: boolean }
  | { kind: "list"; items: JsonValue[] }
  /** One value or none per key asked for, in order (mget). */
  | { kind: "values"; values: (JsonValue | undefined)[] }
  | { kind: "hash"; fields: Record<string, JsonValue> };

function human(reply: Reply): string {
  switch (reply.kind) {
    case "value":
      return reply.value === undefined ? "(nil)" : JSON.stringify(reply.value);
    case "integer":
      return `(integer) ${reply.value}`;
    case "ok":
      return reply.done ? "OK" : "(nil)";
    case "list":
      return reply.items.length === 0
        ? "(empty array)"
        : reply.items.map((item, i) => `${i + 1}) ${JSON.stringify(item)}`).join("\n");
    case "hash": {
      const items = Object.entries(reply.fields).flat();
      return human({ kind: "list", items });
    }
    case "values":
      return reply.values
        .map((value, i) => `${i + 1}) ${value === undefined ? "(nil)" : JSON.stringify(value)}`)
        .join("\n");
  }
}

function json(reply: Reply): string {
  switch (reply.kind) {
    case "value":
      return JSON.stringify(reply.value ?? null);
    case "integer":
      return JSON.stringify(reply.value);
    case "ok":
      return JSON.stringify(reply.done);
    case "list":
      return JSON.stringify(reply.items);
    case "hash":
      return JSON.stringify(reply.fields);
    case "values":
      return JSON.stringify(reply.values.map((value) => value ?? null));
  }
}

function arity(args: string[], min: number, max: number, usage: string): void {
  if (args.length < min || args.length > max) throw new UsageError(`usage: tierkv ${usage}`);
}

/** Runs one client command with the SDK. */
async function clientCommand(kv: KvClient, name: string, args: string[], flags: Flags): Promise<Reply> {
  const asString = flags.string === true;
  switch (name) {
    case "get":
      arity(args, 1, 1, "get KEY");
      return { kind: "value", value: await kv.get(args[0] as string) };
    case "set": {
      arity(args, 2, 2, "set KEY VALUE [--ttl 60s] [--nx|--xx] [--string]");
      const options = {
        ...(flags.ttl !== undefined ? { ttlMs: parseDuration(flags.ttl) } : {}),
        ...(flags.nx === true ? { nx: true } : {}),
        ...(flags.xx === true ? { xx: true } : {}),
      };
      const done = await kv.set(args[0] as string, parseValue(args[1] as string, asString), options);
      return { kind: "ok", done };
    }
    case "mget": {
      arity(args, 1, Number.POSITIVE_INFINITY, "mget KEY [KEY…]");
      const found = await kv.mGet(args);
      return {
        kind: "values",
        values: args.map((key) => (Object.hasOwn(found, key) ? found[key] : undefined)),
      };
    }
    case "mset": {
      if (args.length < 2 || args.length % 2 === 1) {
        throw new UsageError("usage: tierkv mset KEY VALUE [KEY VALUE…] [--ttl 60s] [--string]");
      }
      // No prototype: a key may be named `__proto__`.
      const pairs: Record<string, JsonValue> = Object.create(null);
      for (let i = 0; i < args.length; i += 2)
        pairs[args[i] as string] = parseValue(args[i + 1] as string, asString);
      await kv.mSet(pairs, flags.ttl !== undefined ? { ttlMs: parseDuration(flags.ttl) } : {});
      return { kind: "ok", done: true };
    }
    case "del": {
      arity(args, 1, Number.POSITIVE_INFINITY, "del KEY [KEY…]");
      let deleted = 0;
      for (const key of args) deleted += await kv.delete(key);
      return { kind: "integer", value: deleted };
    }
    case "exists":
      arity(args, 1, 1, "exists KEY");
      return { kind: "integer", value: (await kv.exists(args[0] as string)) ? 1 : 0 };
    case "ttl":
      arity(args, 1, 1, "ttl KEY");
      return { kind: "integer", value: await kv.ttl(args[0] as string) };
    case "expire":
      arity(args, 2, 2, "expire KEY TTL");
      return {
        kind: "integer",
        value: (await kv.expire(args[0] as string, parseDuration(args[1] as string))) ? 1 : 0,
      };
    case "incr":
    case "decr": {
      arity(args, 1, 2, `${name} KEY [BY]`);
      const by = integerArg(args[1], "BY");
      const key = args[0] as string;
      return { kind: "integer", value: name === "incr" ? await kv.incrBy(key, by) : await kv.decr(key, by) };
    }
    case "hget":
      arity(args, 2, 2, "hget KEY FIELD");
      return { kind: "value", value: await kv.hGet(args[0] as string, args[1] as string) };
    case "hset": {
      if (args.length < 3 || args.length % 2 === 0) {
        throw new UsageError("usage: tierkv hset KEY FIELD VALUE [FIELD VALUE…] [--string]");
      }
      // No prototype: a field may be named `__proto__`.
      const fields: Record<string, JsonValue> = Object.create(null);
      for (let i = 1; i < args.length; i += 2) {
        fields[args[i] as string] = parseValue(args[i + 1] as string, asString);
      }
      return { kind: "integer", value: await kv.hSet(args[0] as string, fields) };
    }
    case "hdel":
      arity(args, 2, Number.POSITIVE_INFINITY, "hdel KEY FIELD [FIELD…]");
      return { kind: "integer", value: await kv.hDel(args[0] as string, args.slice(1)) };
    case "hgetall":
      arity(args, 1, 1, "hgetall KEY");
      return { kind: "hash", fields: await kv.hGetAll(args[0] as string) };
    case "keys": {
      arity(args, 0, 1, "keys [PATTERN]");
      const keys: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await kv.keys({ pattern: args[0] ?? "*", cursor });
        keys.push(...page.keys);
        cursor = page.cursor;
      } while (cursor !== null);
      return { kind: "list", items: keys };
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(name)} (tierkv --help lists them)`);
  }
}

/** Options that only some commands take. */
const ONLY: [keyof Flags, string[]][] = [
  ["ttl", ["set", "mset"]],
  ["nx", ["set"]],
  ["xx", ["set"]],
  ["string", ["set", "mset", "hset"]],
  ["port", ["serve"]],
  ["host", ["serve"]],
  ["database-url", ["serve", "migrate"]],
];

/**
 * Runs `tierkv` with these arguments and answers its exit code. `serve` and `migrate` load the
 * server's modules; every other command uses only the client SDK.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`tierkv: ${(error as Error).message}\n(tierkv --help lists the commands and options)\n`);
    return EXIT.USAGE;
  }
  const { flags, args } = parsed;
  const [name, ...rest] = args;
  if (flags.help === true || name === "help") {
    io.out(USAGE);
    return EXIT.OK;
  }
  if (name === undefined) {
    io.err(USAGE);
    return EXIT.USAGE;
  }
  const asJson = flags.json === true;
  try {
    for (const [option, commands] of ONLY) {
      if (flags[option] !== undefined && !commands.includes(name)) {
        throw new UsageError(`--${option} applies to ${commands.join(" and ")} only`);
      }
    }
    if (flags.nx === true && flags.xx === true) throw new UsageError("--nx and --xx exclude each other");
    if (name === "serve" || name === "migrate") {
      if (rest.length > 0) throw new UsageError(`usage: tierkv ${name} [options]`);
      return await serverCommand(name, flags, io);
    }
    const kv = createClient({
      url: flags.url ?? io.env.KV_URL ?? "http://127.0.0.1:8787",
      ...((flags.token ?? io.env.KV_TOKEN) ? { token: flags.token ?? io.env.KV_TOKEN } : {}),
    });
    try {
      const reply = await clientCommand(kv, name, rest, flags);
      io.out(`${asJson ? json(reply) : human(reply)}\n`);
      return EXIT.OK;
    } finally {
      await kv.close();
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`tierkv: ${error.message}\n`);
      return EXIT.USAGE;
    }
    if (isKvError(error)) {
      // The client's messages never hold the token.
      io.err(
        asJson
          ? `${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`
          : `(error) ${error.code}: ${error.message}\n`,
      );
      return EXIT.ERROR;
    }
    io.err(`tierkv: ${(error as Error).message}\n`);
    return EXIT.ERROR;
  }
}

async function serverCommand(name: "serve" | "migrate", flags: Flags, io: CliIo): Promise<number> {
  if (flags.port !== undefined) io.env.PORT = flags.port;
  if (flags.host !== undefined) io.env.HOST = flags.host;
  if (flags["database-url"] !== undefined) io.env.DATABASE_URL = flags["database-url"];
  if (name === "serve") {
    const { main } = await import("../adapters/node-server.ts");
    // It logs why it could not start and sets the exit code; once listening, it runs until a signal.
    await main();
    return Number(process.exitCode ?? EXIT.OK);
  }
  const { migrateDatabase } = await import("../adapters/migrate-cli.ts");
  try {
    io.out(`${await migrateDatabase(io.env)}\n`);
  } catch (error) {
    io.err(`tierkv: migration failed: ${(error as Error).message}\n`);
    return EXIT.ERROR;
  }
  return EXIT.OK;
}
