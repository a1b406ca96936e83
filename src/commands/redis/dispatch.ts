import { UnavailableError } from "../../core/errors.ts";
import type { Engine, ReadOptions } from "../../engine/engine.ts";
import { keysOf, type RedisCommand, RedisContext, runRedis, wrongArity } from "./command.ts";
import { REDIS_COMMANDS } from "./index.ts";
import { RedisError, type Reply } from "./reply.ts";

/** What one command came to, with the cache outcome of its reads. */
export interface Answer {
  reply: Reply | RedisError;
  cache: "HIT" | "MISS" | undefined;
}

/** Options of `dispatch`: who calls, and how the reads use L1. */
export interface DispatchOptions {
  /** The read-only token runs read commands only. */
  access: "full" | "read";
  reads?: ReadOptions;
}

/**
 * Runs one command line (`["SET", "k", "v"]`) as Redis would: the name in any case, then the
 * checks in Redis's order (unknown command, arity, permission), each with Redis's error text.
 * Arguments arrive as JSON; numbers and booleans mean the text JavaScript prints for them.
 */
export async function dispatch(engine: Engine, line: unknown, options: DispatchOptions): Promise<Answer> {
  const queued = prepare(line, options);
  if (queued instanceof RedisError) return { reply: queued, cache: undefined };
  return runRedis(queued.command, engine, queued.args, options.reads ?? {});
}

/**
 * A pipeline: every command answered in its own slot, exactly as if they ran one after another,
 * which is how Redis runs them. They run concurrently where no client could tell: a command
 * waits for every earlier command that names one of its keys, and a command that names no key
 * (SCAN, KEYS, FLUSHDB, DBSIZE, a script that declares none, PING) waits for all earlier ones
 * and holds back all later ones. An auto-pipelining client's batch of independent calls thus
 * shares the database's connections instead of queueing behind each other. A run of increments
 * of one key (INCR, INCRBY, DECR, DECRBY) starts together where the store applies increments in
 * call order: they share one statement, and each answers what it would have answered in turn.
 */
export async function pipeline(
  engine: Engine,
  lines: readonly unknown[],
  options: DispatchOptions,
): Promise<Answer[]> {
  const answers: Promise<Answer>[] = [];
  const done: Promise<unknown>[] = [];
  /**
   * Per key, the last command that names it: when it settles, and for an increment, what it
   * waited for and the fence it stood behind.
   */
  const lastOf = new Map<
    string,
    { settled: Promise<unknown>; incrementAfter?: Promise<unknown>; fence?: Promise<unknown> }
  >();
  const together = engine.store.incrementsInCallOrder === true;
  let fence: Promise<unknown> = Promise.resolve();
  for (const line of lines) {
    const queued = prepare(line, options);
    if (queued instanceof RedisError) {
      answers.push(Promise.resolve({ reply: queued, cache: undefined }));
      continue;
    }
    const keys = keysOf(queued.command, queued.args);
    const previous = keys.length === 1 ? lastOf.get(keys[0] as string) : undefined;
    const joins =
      together &&
      queued.command.increment === true &&
      previous?.incrementAfter !== undefined &&
      previous.fence === fence;
    // An increment after an increment of its key starts with it: their `then`s run in order in
    // one turn, so they reach the store in pipeline order.
    const after = joins
      ? (previous?.incrementAfter as Promise<unknown>)
      : keys.length === 0
        ? Promise.all(done)
        : Promise.all([fence, ...keys.map((key) => lastOf.get(key)?.settled)]);
    const answer = after.then(() => runRedis(queued.command, engine, queued.args, options.reads ?? {}));
    answers.push(answer);
    const settled = answer.then(
      () => {},
      () => {},
    );
    done.push(settled);
    if (keys.length === 0) fence = settled;
    else {
      // What comes next on the key waits for all of a run of increments, not just its last.
      const incrementAfter = queued.command.increment === true && keys.length === 1 ? after : undefined;
      const entry = incrementAfter === undefined ? { settled } : { settled, incrementAfter, fence };
      for (const key of keys)
        lastOf.set(key, joins ? { ...entry, settled: Promise.all([previous?.settled, settled]) } : entry);
    }
  }
  return Promise.all(answers);
}

/** A command line checked and ready to run. */
interface Queued {
  command: RedisCommand;
  args: string[];
}

/** The checks of a command line before it runs, in Redis's order; the first failure answers. */
function prepare(line: unknown, options: DispatchOptions): Queued | RedisError {
  const argv = argumentsOf(line);
  if (argv instanceof RedisError) return argv;
  const [given, ...args] = argv as [string, ...string[]];
  const command = REDIS_COMMANDS.get(given.toLowerCase());
  if (command === undefined) return unknownCommand(given, args);
  const { arity, name } = command;
  if (wrongArity(arity, argv.length)) {
    return new RedisError(`ERR wrong number of arguments for '${name}' command`);
  }
  if (command.write && options.access === "read") {
    return new RedisError(`NOPERM this user has no permissions to run the '${name}' command`, 403);
  }
  return { command, args };
}

/**
 * MULTI … EXEC: every command is checked first, and one that fails its checks discards the
 * whole transaction (Redis's EXECABORT, as one error). Then all run in order in one atomic
 * section over the keys they name, so no other transaction over those keys interleaves, on any
 * instance; each answers in its own slot, errors included, as EXEC answers. A database failure
 * undoes the whole transaction.
 */
export async function transact(
  engine: Engine,
  lines: readonly unknown[],
  options: DispatchOptions,
): Promise<Answer[] | RedisError> {
  const queued: Queued[] = [];
  for (const line of lines) {
    const checked = prepare(line, options);
    if (checked instanceof RedisError) {
      return new RedisError(
        `EXECABORT Transaction discarded because of previous errors: ${checked.message}`,
        checked.status,
      );
    }
    queued.push(checked);
  }
  const keys = [...new Set(queued.flatMap(({ command, args }) => keysOf(command, args)))];
  // A flush inside names no key: this instance's L1 is emptied after the transaction instead.
  const flushes = queued.some(({ command }) => command.name === "flushdb" || command.name === "flushall");
  const answers = await new RedisContext(engine, { noCache: true }).atomic(keys, async (inside) => {
    const out: Answer[] = [];
    for (const { command, args } of queued) {
      const answer = await runRedis(command, inside.engine, args, { noCache: true });
      if (answer.reply instanceof RedisError && answer.reply.status === 503) throw new UnavailableError();
      out.push({ reply: answer.reply, cache: undefined });
    }
    return out;
  });
  if (flushes) engine.l1.clear();
  return answers;
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
