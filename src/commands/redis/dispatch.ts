import type { Engine } from "../../engine/engine.ts";
import { runRedis } from "./command.ts";
import { REDIS_COMMANDS } from "./index.ts";
import { RedisError, type Reply } from "./reply.ts";

/** What one command came to, with the cache outcome of its reads. */
export interface Answer {
  reply: Reply | RedisError;
  cache: "HIT" | "MISS" | undefined;
}

/** Options of `dispatch`. */
export interface DispatchOptions {
  /** The read-only token runs read commands only. */
  access: "full" | "read";
  /** Skip L1 for the reads. */
  noCache?: boolean;
}

/**
 * Runs one command line (`["SET", "k", "v"]`) as Redis would: the name in any case, then the
 * checks in Redis's order (unknown command, arity, permission), each with Redis's error text.
 * Arguments arrive as JSON; numbers and booleans mean the text JavaScript prints for them.
 */
export async function dispatch(engine: Engine, line: unknown, options: DispatchOptions): Promise<Answer> {
  const argv = argumentsOf(line);
  if (argv instanceof RedisError) return { reply: argv, cache: undefined };
  const [given, ...args] = argv as [string, ...string[]];
  const command = REDIS_COMMANDS.get(given.toLowerCase());
  if (command === undefined) return { reply: unknownCommand(given, args), cache: undefined };
  const { arity, name } = command;
  if ((arity > 0 && argv.length !== arity) || argv.length < -arity) {
    return { reply: new RedisError(`ERR wrong number of arguments for '${name}' command`), cache: undefined };
  }
  if (command.write && options.access === "read") {
    const reply = new RedisError(`NOPERM this user has no permissions to run the '${name}' command`, 403);
    return { reply, cache: undefined };
  }
  return runRedis(command, engine, args, options.noCache === true);
}

function argumentsOf(line: unknown): string[] | RedisError {
  if (!Array.isArray(line) || line.length === 0)
    return new RedisError("ERR a command is a non-empty JSON array of its name and arguments");
  const out: string[] = new Array(line.length);
  for (let i = 0; i < line.length; i++) {
    const arg: unknown = line[i];
    if (typeof arg === "string") out[i] = arg;
    else if (typeof arg === "number" || typeof arg === "boolean") out[i] = String(arg);
    else return new RedisError("ERR command arguments must be strings, numbers or booleans");
  }
  return out;
}

/** Redis's text, with the arguments quoted until the list reaches 128 characters. */
function unknownCommand(name: string, args: readonly string[]): RedisError {
  let shown = "";
  for (let i = 0; i < args.length && shown.length < 128; i++)
    shown += `'${(args[i] as string).slice(0, 128 - shown.length)}' `;
  return new RedisError(`ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${shown}`);
}
