import type { EndpointName } from "../../core/api.ts";
import { KvError } from "../../core/errors.ts";
import { JsonText } from "../../core/types.ts";
import { Engine, type ReadOptions } from "../../engine/engine.ts";
import type { FieldSelection, Snapshot } from "../../engine/types.ts";
import { CommandContext, execute } from "../command.ts";
import { COMMANDS } from "../index.ts";
import { parseInput } from "../input.ts";
import { RedisError, type Reply, redisErrorOf } from "./reply.ts";

/**
 * One Redis command: its arity as Redis counts it (the name included; negative for "at least"),
 * whether it writes, and how it runs. A command parses its arguments and maps them onto the
 * native command units, so both protocols run one implementation of each operation.
 */
export interface RedisCommand {
  /** Lower case, as Redis names it in its error texts. */
  readonly name: string;
  readonly arity: number;
  readonly write: boolean;
  /** Which arguments are keys, as Redis's command table says (what a transaction locks). */
  readonly keys: KeySpec;
  /**
   * An increment of its one key that reaches the store's `incrBy` at once when it runs: a run of
   * them on one key may start together where the store applies increments in call order.
   */
  readonly increment?: true;
  run(r: RedisContext, args: readonly string[]): Promise<Reply>;
}

/**
 * The keys among a command's arguments: "first" (the first argument), "all" (every argument),
 * "two" (the first two: COPY), "pairs" (every other one, from the first: MSET), "eval" (the `numkeys` arguments after the
 * script and its count: EVAL), or "none".
 */
export type KeySpec = "first" | "two" | "all" | "pairs" | "eval" | "none";

/** Declares a Redis command unit. */
export function redisCommand(
  name: string,
  arity: number,
  write: boolean,
  run: RedisCommand["run"],
  keys: KeySpec = "first",
): RedisCommand {
  return { name, arity, write, keys, run };
}

/**
 * Whether `count` words (the command's name included) break an arity as Redis counts it: exactly
 * `arity` when positive, at least `-arity` when negative.
 */
export function wrongArity(arity: number, count: number): boolean {
  return arity > 0 ? count !== arity : count < -arity;
}

/** The keys a command line names (its arguments, without the command's name). */
export function keysOf(command: RedisCommand, args: readonly string[]): string[] {
  switch (command.keys) {
    case "first":
      return args.length > 0 ? [args[0] as string] : [];
    case "two":
      return args.slice(0, 2);
    case "all":
      return [...args];
    case "pairs":
      return args.filter((_, i) => i % 2 === 0);
    case "eval": {
      const n = Number(args[1]);
      return Number.isSafeInteger(n) && n > 0 ? args.slice(2, 2 + n) : [];
    }
    default:
      return [];
  }
}

/**
 * What a Redis command runs with: the native units (each run with its own validation, L1
 * handling and cache outcome), and reads of snapshots through the same L1.
 */
export class RedisContext {
  readonly engine: Engine;
  readonly #reads: CommandContext;

  constructor(engine: Engine, reads: ReadOptions = {}) {
    this.engine = engine;
    this.#reads = new CommandContext(engine, reads);
  }

  /** Runs a native unit on `input` (validated as the native API validates it). */
  async call(name: EndpointName, input: unknown): Promise<unknown> {
    const command = COMMANDS[name];
    const outcome = await execute(command, this.engine, parseInput(command.input, input), this.#reads.reads);
    this.#reads.record(outcome.cache);
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  /** A key's snapshot with the given hash fields, from L1 when it holds them. */
  async read(key: string, fields: FieldSelection): Promise<Snapshot> {
    return this.#reads.read(key, fields);
  }

  /** Snapshots of many keys (hashes without fields). */
  async readMany(keys: string[]): Promise<Map<string, Snapshot>> {
    return this.#reads.readMany(keys);
  }

  /**
   * Runs `fn` in one atomic section over `keys` (see `KvStore.atomic`): the context it gets
   * reads and writes inside the section, never from L1; this instance's L1 entries of the keys
   * go before and after it.
   */
  atomic<T>(keys: readonly string[], fn: (r: RedisContext) => Promise<T>): Promise<T> {
    const { engine } = this;
    return engine.write(keys, () =>
      engine.store.atomic(keys, (tx) =>
        fn(
          new RedisContext(
            new Engine(tx, {
              ttlMs: 0,
              clock: engine.clock,
              instance: engine.instance,
              scriptTimeLimitMs: engine.scriptTimeLimitMs,
            }),
            { noCache: true },
          ),
        ),
      ),
    );
  }

  /** Milliseconds from now to an expiry instant, as `ttlMs` for a native write (none for null). */
  ttlUntil(expiresAt: number | null): { ttlMs?: number } {
    return expiresAt === null ? {} : { ttlMs: Math.max(1, expiresAt - this.engine.clock.now()) };
  }

  /** Whether L1 answered every read of the command. */
  get cache(): "HIT" | "MISS" | undefined {
    return this.#reads.cache;
  }
}

/** Runs a command, turning tierkv's errors into Redis's; a bug is thrown. */
export async function runRedis(
  command: RedisCommand,
  engine: Engine,
  args: readonly string[],
  reads: ReadOptions,
): Promise<{ reply: Reply | RedisError; cache: "HIT" | "MISS" | undefined }> {
  const r = new RedisContext(engine, reads);
  try {
    return { reply: await command.run(r, args), cache: r.cache };
  } catch (error) {
    if (error instanceof RedisError) return { reply: error, cache: r.cache };
    if (error instanceof KvError) return { reply: redisErrorOf(error), cache: r.cache };
    throw error;
  }
}

/**
 * A stored JSON value in the Redis view (SPEC §7): a JSON string is the string itself; any other
 * value is its JSON text (`5` → `"5"`).
 */
export function redisString(json: string): string {
  return json.charCodeAt(0) === 0x22 ? (JSON.parse(json) as string) : json;
}

/** A native unit's JSON-text result in the Redis view. */
export function redisStringOf(result: unknown): string {
  return redisString(result instanceof JsonText ? result.json : JSON.stringify(result));
}
