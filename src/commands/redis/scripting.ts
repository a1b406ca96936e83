import { UnavailableError } from "../../core/errors.ts";
import type { KvStore } from "../../engine/types.ts";
import { integerArg, option } from "./args.ts";
import {
  keysOf,
  type RedisCommand,
  type RedisContext,
  redisCommand,
  runRedis,
  wrongArity,
} from "./command.ts";
import type { CompiledScript, LuaVm } from "./lua.ts";
import { OK, RedisError, type Reply, ScriptTimeoutError } from "./reply.ts";
import { sha1hex } from "./sha1.ts";

// Lua scripting (EVAL, EVALSHA, their _RO forms, SCRIPT): a script runs in one atomic section
// over the keys it declares, so its reads and writes form one transaction that no other script
// or transaction over those keys interleaves with, on any instance sharing the database. The
// commands it calls are the same units the protocol runs.

const NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL.";
/** Redis 7's script flags, and `allow-key-locking`, which @upstash/ratelimit's scripts declare. */
const FLAGS = new Set([
  "no-writes",
  "allow-oom",
  "allow-stale",
  "no-cluster",
  "allow-cross-slot-keys",
  "allow-key-locking",
]);
/** What a script may not call (Redis's `noscript` commands that tierkv has). */
const NOT_IN_SCRIPTS = new Set(["eval", "evalsha", "eval_ro", "evalsha_ro", "script"]);
/** Compiled scripts an instance keeps; the least recently used go first. */
const MAX_COMPILED = 1_000;

/** A script ready to run: its compiled function and what its shebang declares. */
interface Script {
  compiled: CompiledScript;
  /** Declared with a shebang (`#!lua`): writes need the flag's absence, not just EVAL. */
  shebang: boolean;
  noWrites: boolean;
}

/** The VM, loaded on the first script: an instance that runs none never pays for it. */
let vm: Promise<LuaVm> | undefined;
/** The VM once loaded (what releasing compiled scripts needs). */
let loaded: LuaVm | undefined;
const compiled = new Map<string, Script>();
/** The SHA1s each store is known to hold, so that EVAL saves a script once per instance. */
let saved = new WeakMap<KvStore, Set<string>>();

/**
 * The flags of a script's shebang (`#!lua flags=no-writes,…`), checked as Redis 7 checks them,
 * and the code to compile: the shebang line blanked, so that line numbers stay the script's.
 */
function parseShebang(body: string): { code: string; shebang: boolean; noWrites: boolean } {
  if (!body.startsWith("#!")) return { code: body, shebang: false, noWrites: false };
  const end = body.indexOf("\n");
  if (end === -1) throw new RedisError("ERR Invalid script shebang");
  const [engine, ...parts] = body.slice(0, end).split(/\s+/).filter(Boolean) as [string, ...string[]];
  if (engine !== "#!lua") throw new RedisError(`ERR Unexpected engine in script shebang: ${engine}`);
  let noWrites = false;
  for (const part of parts) {
    if (!part.startsWith("flags=")) throw new RedisError(`ERR Unknown lua shebang option: ${part}`);
    for (const flag of part.slice(6).split(",")) {
      if (!FLAGS.has(flag)) throw new RedisError(`ERR Unexpected flag in script shebang: ${flag}`);
      if (flag === "no-writes") noWrites = true;
    }
  }
  return { code: body.slice(end), shebang: true, noWrites };
}

/** A compiled script by its SHA1, now the most recently used. */
function recall(sha: string): Script | undefined {
  const known = compiled.get(sha);
  if (known !== undefined) {
    compiled.delete(sha);
    compiled.set(sha, known);
  }
  return known;
}

function luaVm(): Promise<LuaVm> {
  vm ??= import("./lua.ts").then(({ LuaVm }) => {
    loaded = new LuaVm();
    return loaded;
  });
  return vm;
}

/** Compiles a script (or finds it compiled), by its SHA1. */
async function prepareScript(sha: string, body: string): Promise<Script> {
  const known = recall(sha);
  if (known !== undefined) return known;
  const { code, shebang, noWrites } = parseShebang(body);
  const lua = await luaVm();
  // Another call may have compiled it meanwhile.
  const again = recall(sha);
  if (again !== undefined) return again;
  const script = { compiled: lua.compile(sha, code), shebang, noWrites };
  compiled.set(sha, script);
  if (compiled.size > MAX_COMPILED) {
    const [oldest, evicted] = compiled.entries().next().value as [string, Script];
    compiled.delete(oldest);
    lua.release(evicted.compiled);
  }
  return script;
}

/** A script sent whole (EVAL, SCRIPT LOAD): compiled here and kept in the store's cache. */
async function loadScript(r: RedisContext, body: string): Promise<{ sha: string; script: Script }> {
  const sha = sha1hex(body);
  const script = await prepareScript(sha, body);
  await save(r.engine.store, sha, body);
  return { sha, script };
}

/** Saves a script in the store's cache, once per instance and store. */
async function save(store: KvStore, sha: string, body: string): Promise<void> {
  const shas = saved.get(store) ?? new Set<string>();
  saved.set(store, shas);
  if (shas.has(sha)) return;
  await store.saveScript(sha, body);
  shas.add(sha);
}

/** The script of a SHA1 (any case): compiled here, or from the store's cache; null if neither has it. */
async function scriptOf(r: RedisContext, given: string): Promise<Script | null> {
  const sha = given.toLowerCase();
  if (sha.length !== 40) return null;
  const known = recall(sha);
  if (known !== undefined) return known;
  const body = (await r.engine.store.scripts([sha])).get(sha);
  return body === undefined ? null : await prepareScript(sha, body);
}

/**
 * Runs a script with `numkeys key… arg…` in one atomic section over its keys. Its commands
 * are checked as Redis checks a script's calls; a database failure ends the run and undoes it.
 * A script stopped by the time limit is undone too; one that ends in an error keeps the
 * writes it made, as in Redis.
 */
async function runScript(
  r: RedisContext,
  script: Script,
  args: readonly string[],
  readOnlyCommand: boolean,
  lookup: (name: string) => RedisCommand | undefined,
): Promise<Reply> {
  const numkeys = integerArg(args[0] as string);
  if (numkeys < 0) throw new RedisError("ERR Number of keys can't be negative");
  if (numkeys > args.length - 1)
    throw new RedisError("ERR Number of keys can't be greater than number of args");
  if (readOnlyCommand && script.shebang && !script.noWrites)
    throw new RedisError("ERR Can not execute a script with write flag using *_ro command.");
  const keys = args.slice(1, 1 + numkeys);
  const argv = args.slice(1 + numkeys);
  const readOnly = readOnlyCommand || script.noWrites;
  const written = new Set<string>();
  let flushed = false;
  const { engine } = r;
  let reply: Reply | RedisError;
  try {
    reply = await r.atomic(keys, async (inside) => {
      const ran = await (loaded as LuaVm).run(
        script.compiled,
        keys,
        argv,
        async ([given, ...rest]) => {
          const command = lookup((given as string).toLowerCase());
          if (command === undefined) return new RedisError("ERR Unknown Redis command called from script");
          if (wrongArity(command.arity, rest.length + 1))
            return new RedisError("ERR Wrong number of args calling Redis command from script");
          if (NOT_IN_SCRIPTS.has(command.name))
            return new RedisError("ERR This Redis command is not allowed from script");
          if (command.write && readOnly)
            return new RedisError("ERR Write commands are not allowed from read-only scripts.");
          const answer = await runRedis(command, inside.engine, rest, { noCache: true });
          if (answer.reply instanceof RedisError && answer.reply.status === 503) throw new UnavailableError();
          if (command.write) {
            if (command.name === "flushdb" || command.name === "flushall") flushed = true;
            for (const key of keysOf(command, rest)) written.add(key);
          }
          return answer.reply;
        },
        { timeLimitMs: engine.scriptTimeLimitMs },
      );
      // A script stopped midway leaves nothing behind: its transaction is undone.
      if (ran instanceof ScriptTimeoutError) throw ran;
      return ran;
    });
  } finally {
    // Keys the script wrote without declaring them: this instance's L1 drops them too.
    for (const key of written) engine.l1.write(key, undefined);
    if (flushed) engine.l1.clear();
  }
  // A script's error reply (`{err = …}`, or what it raised) answers as the command's error.
  if (reply instanceof RedisError) throw reply;
  return reply;
}

/**
 * The scripting commands. `lookup` finds the commands a script calls (every command of the
 * protocol, this list included).
 */
export function scriptingCommands(lookup: (name: string) => RedisCommand | undefined): RedisCommand[] {
  /** EVAL and EVALSHA, and their read-only forms: they differ in how the script is found. */
  const evalCommand = (
    name: string,
    write: boolean,
    find: (r: RedisContext, first: string) => Promise<Script>,
  ) =>
    redisCommand(
      name,
      -3,
      write,
      async (r, [first, ...args]) => runScript(r, await find(r, first as string), args, !write, lookup),
      "eval",
    );
  const byBody = async (r: RedisContext, body: string) => (await loadScript(r, body)).script;
  const bySha = async (r: RedisContext, sha: string) => {
    const script = await scriptOf(r, sha);
    if (script === null) throw new RedisError(NOSCRIPT);
    return script;
  };

  const script = redisCommand(
    "script",
    -2,
    true,
    async (r, [given, ...args]) => {
      const sub = option(given);
      const arity = (n: number) => {
        if (wrongArity(n, args.length + 2))
          throw new RedisError(`ERR wrong number of arguments for 'script|${sub.toLowerCase()}' command`);
      };
      switch (sub) {
        case "LOAD":
          arity(3);
          return (await loadScript(r, args[0] as string)).sha;
        case "EXISTS": {
          arity(-3);
          const shas = args.map((sha) => sha.toLowerCase());
          const missing = shas.filter((sha) => !compiled.has(sha));
          const stored = missing.length > 0 ? await r.engine.store.scripts(missing) : new Map();
          return shas.map((sha) => (compiled.has(sha) || stored.has(sha) ? 1 : 0));
        }
        case "FLUSH": {
          arity(-2);
          if (args.length > 1 || (args.length === 1 && !["SYNC", "ASYNC"].includes(option(args[0]))))
            throw new RedisError("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
          await r.engine.store.flushScripts();
          saved = new WeakMap();
          for (const { compiled: c } of compiled.values()) loaded?.release(c);
          compiled.clear();
          return OK;
        }
        case "KILL":
          arity(2);
          throw new RedisError("NOTBUSY No scripts in execution right now.");
        default:
          throw new RedisError(`ERR unknown subcommand '${given}'. Try SCRIPT HELP.`);
      }
    },
    "none",
  );

  return [
    evalCommand("eval", true, byBody),
    evalCommand("eval_ro", false, byBody),
    evalCommand("evalsha", true, bySha),
    evalCommand("evalsha_ro", false, bySha),
    script,
  ];
}
