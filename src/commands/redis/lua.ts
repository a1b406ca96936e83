import { createHash } from "node:crypto";
import { lauxlib, lua, lualib, to_luastring } from "fengari";
import { RedisError, type Reply, Status } from "./reply.ts";

// Redis's scripting on fengari (Lua 5.3 in JavaScript): one VM per instance; each run is a
// coroutine of it. `redis.call` yields the command out to JavaScript, which runs it on the
// database and resumes the coroutine with the reply, so a script reads as synchronous code
// while the instance keeps serving other requests.

const UTF8 = new TextDecoder();
const CHUNK_NAME = to_luastring("@user_script");
const TEXT_ONLY = to_luastring("t");
const ERR = to_luastring("err");
const OK_FIELD = to_luastring("ok");

/** Instructions between two checks of a run's deadline. */
const HOOK_EVERY = 1_000;
/** The longest string `string.rep` may build (Redis's bulk strings stop at 512 MB; tierkv's values at 1 MiB). */
const MAX_STRING_BYTES = 64 * 1024 * 1024;

/** Runs one command line a script sent; answers its reply, or its error as a `RedisError`. */
export type CommandRunner = (argv: string[]) => Promise<Reply | RedisError>;

/** A script compiled in the VM. */
export interface CompiledScript {
  readonly sha: string;
  readonly ref: number;
}

/** The SHA1 of a script's text, as Redis names scripts (lower-case hex). */
export function sha1hex(text: string | Uint8Array): string {
  return createHash("sha1").update(text).digest("hex");
}

/** A Lua string as JavaScript text (invalid UTF-8 becomes U+FFFD, as tierkv's values are text). */
function text(bytes: Uint8Array | null): string {
  return bytes === null ? "" : UTF8.decode(bytes);
}

/** A number as Redis 7 prints a Lua number argument: an integer as is, a float as C's `%.17g`. */
export function formatLuaNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e17) return String(n === 0 ? 0 : n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? "nan" : n > 0 ? "inf" : "-inf";
  const [mantissa, exp] = n.toExponential(16).split("e") as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 17) {
    const digits = mantissa.replace(/\.?0+$/, "");
    return `${digits}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  return n.toFixed(Math.max(0, 16 - e)).replace(/\.?0+$/, "");
}

/** What one run of a script is doing, found by the thread it runs on. */
interface Run {
  deadline: number;
  readOnly: boolean;
  /** The command the script is waiting on, with whether its error is returned (`pcall`). */
  pending: { argv: string[] | RedisError; protect: boolean } | undefined;
  /** The reply to hand back when the coroutine resumes. */
  reply: Reply | RedisError | undefined;
  killed: boolean;
}

// The sandbox, run once in a fresh state that has the base, table, string and math libraries
// and the `redis` table. Scripts see a read-only view of the globals (Redis 7's rules), no
// files, modules or bytecode, and Lua 5.1's `unpack`. It returns what makes a run's globals.
const SANDBOX = `
local G, string, table, math, redis = _G, string, table, math, redis
local rawload, rawset, setmetatable, error, tostring, type, pairs = load, rawset, setmetatable, error, tostring, type, pairs
local mathtype, format, rep = math.type, string.format, string.rep
local MAX = ${MAX_STRING_BYTES}

function string.rep(s, n, sep)
  if type(s) == "string" and type(n) == "number" and n > 0 and (#s + #(sep or "")) * n > MAX then
    error("string.rep: the result would exceed " .. MAX .. " bytes", 2)
  end
  return rep(s, n, sep)
end
string.dump = nil

local frozen = {}
local function readonly_error() error("Attempt to modify a readonly table", 2) end
local function readonly(t)
  local proxy = setmetatable({}, { __index = t, __newindex = readonly_error, __metatable = false })
  frozen[proxy] = true
  return proxy
end

local globals = {}
for name, value in pairs(G) do globals[name] = value end
for _, name in pairs({ "_G", "dofile", "loadfile", "require", "print", "collectgarbage", "load" }) do
  globals[name] = nil
end
globals.string, globals.table, globals.math, globals.redis =
  readonly(string), readonly(table), readonly(math), readonly(redis)
globals.unpack = table.unpack
-- Redis's pcall answers an error table's text, as redis.call's errors are caught by scripts.
local rawpcall = pcall
local function caught(ok, ...)
  if not ok then
    local e = ...
    if type(e) == "table" and type(e.err) == "string" then return false, e.err end
  end
  return ok, ...
end
globals.pcall = function(f, ...) return caught(rawpcall(f, ...)) end
globals.rawset = function(t, k, v)
  if frozen[t] then error("Attempt to modify a readonly table", 2) end
  return rawset(t, k, v)
end
-- Lua 5.1 prints every number with %.14g: 10/2 is "5", not 5.3's "5.0".
globals.tostring = function(v)
  if mathtype(v) == "float" and v == v and v ~= 1/0 and v ~= -1/0 then return format("%.14g", v) end
  return tostring(v)
end
getmetatable("").__metatable = false

local function lookup(env, name)
  if name == "_G" then return env end
  local value = globals[name]
  if value == nil then
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end
  return value
end
local env_meta = { __index = lookup, __newindex = readonly_error, __metatable = false }
local shared = setmetatable({}, env_meta)
frozen[shared] = true
local function load_text(chunk, name)
  if type(chunk) ~= "string" then return nil, "only text chunks can be loaded" end
  return rawload(chunk, name or chunk, "t", shared)
end
globals.loadstring, globals.load = load_text, load_text

for name in pairs(G) do G[name] = nil end
return function(keys, argv)
  return setmetatable({ KEYS = keys, ARGV = argv }, env_meta)
end
`;

/**
 * The Lua VM of an instance: compiles scripts and runs them as Redis does, with a bound on each
 * run's time. Runs interleave only while a script waits on a command, each in its own
 * coroutine with its own globals.
 */
export class LuaVm {
  readonly #L: lua.LuaState;
  readonly #makeEnv: number;
  readonly #runs = new WeakMap<lua.LuaState, Run>();
  readonly #log: (level: number, message: string) => void;

  constructor(options: { log?: (level: number, message: string) => void } = {}) {
    this.#log = options.log ?? ((level, message) => console.log(`tierkv: script log (${level}): ${message}`));
    const L = lauxlib.luaL_newstate();
    this.#L = L;
    for (const [name, open] of [
      ["_G", lualib.luaopen_base],
      ["table", lualib.luaopen_table],
      ["string", lualib.luaopen_string],
      ["math", lualib.luaopen_math],
    ] as const) {
      lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
      lua.lua_pop(L, 1);
    }
    this.#installRedis(L);
    const status = lauxlib.luaL_loadbufferx(
      L,
      to_luastring(SANDBOX),
      -1,
      to_luastring("=sandbox"),
      TEXT_ONLY,
    );
    if (status !== lua.LUA_OK)
      throw new Error(`the Lua sandbox does not compile: ${text(lua.lua_tostring(L, -1))}`);
    lua.lua_call(L, 0, 1);
    this.#makeEnv = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  /** Compiles a script's body; Redis's compile error when it is not valid Lua. */
  compile(sha: string, body: string): CompiledScript {
    const L = this.#L;
    const bytes = to_luastring(body);
    const status = lauxlib.luaL_loadbufferx(L, bytes, bytes.length, CHUNK_NAME, TEXT_ONLY);
    if (status !== lua.LUA_OK) {
      // Lua 5.1's parser quotes the end of the script as Redis's words it ('<eof>'); 5.3's does not.
      const message = text(lua.lua_tostring(L, -1)).replace(/ near <eof>$/, " near '<eof>'");
      lua.lua_pop(L, 1);
      throw new RedisError(`ERR Error compiling script (new function): ${message}`);
    }
    return { sha, ref: lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX) };
  }

  /** Frees a compiled script. */
  release(script: CompiledScript): void {
    lauxlib.luaL_unref(this.#L, lua.LUA_REGISTRYINDEX, script.ref);
  }

  /**
   * Runs a compiled script with its KEYS and ARGV, sending each `redis.call` to `runner`. What
   * the runner throws (the database failing) ends the run and is thrown from here.
   */
  async run(
    script: CompiledScript,
    keys: readonly string[],
    argv: readonly string[],
    runner: CommandRunner,
    options: { readOnly: boolean; timeLimitMs: number },
  ): Promise<Reply | RedisError> {
    const co = lua.lua_newthread(this.#L);
    lua.lua_pop(this.#L, 1);
    const run: Run = {
      deadline: Date.now() + options.timeLimitMs,
      readOnly: options.readOnly,
      pending: undefined,
      reply: undefined,
      killed: false,
    };
    this.#runs.set(co, run);
    const timeout = () =>
      new RedisError(
        `ERR Script killed: it ran for longer than ${options.timeLimitMs} ms (KV_SCRIPT_TIME_LIMIT_MS) script: ${script.sha}`,
      );
    lua.lua_sethook(
      co,
      (L) => {
        if (Date.now() > run.deadline) {
          // A yield from the hook ends the run wherever it is: no pcall can catch it.
          run.killed = true;
          lua.lua_yield(L, 0);
        }
      },
      lua.LUA_MASKCOUNT,
      HOOK_EVERY,
    );
    lua.lua_rawgeti(co, lua.LUA_REGISTRYINDEX, script.ref);
    lua.lua_rawgeti(co, lua.LUA_REGISTRYINDEX, this.#makeEnv);
    pushStrings(co, keys);
    pushStrings(co, argv);
    lua.lua_call(co, 2, 1);
    lua.lua_setupvalue(co, -2, 1);

    for (;;) {
      let status: number;
      try {
        status = lua.lua_resume(co, this.#L, 0);
      } catch (error) {
        // A JavaScript failure inside the VM (an allocation too large): the run is over.
        return new RedisError(`ERR Error running script: ${(error as Error).message} script: ${script.sha}`);
      }
      if (status === lua.LUA_OK) {
        const reply = lua.lua_gettop(co) === 0 ? null : toReply(co, -1, 0);
        lua.lua_settop(co, 0);
        return reply;
      }
      if (status !== lua.LUA_YIELD) return errorOfRun(co, script.sha);
      if (run.killed) return timeout();
      const pending = run.pending;
      run.pending = undefined;
      if (pending === undefined) return new RedisError(`ERR scripts may not yield script: ${script.sha}`);
      run.reply = pending.argv instanceof RedisError ? pending.argv : await runner(pending.argv);
      if (Date.now() > run.deadline) return timeout();
    }
  }

  #installRedis(L: lua.LuaState): void {
    lua.lua_createtable(L, 0, 16);
    const fn = (name: string, f: (L: lua.LuaState) => number) => {
      lua.lua_pushjsfunction(L, f);
      lua.lua_setfield(L, -2, to_luastring(name));
    };
    fn("call", (co) => this.#call(co, false));
    fn("pcall", (co) => this.#call(co, true));
    // `{err = …}` and `{ok = …}` of a string; Redis answers other arguments with an error table.
    const reply = (field: Uint8Array) => (co: lua.LuaState) => {
      if (lua.lua_gettop(co) !== 1 || lua.lua_type(co, 1) !== lua.LUA_TSTRING) {
        pushError(co, "ERR wrong number or type of arguments");
        return 1;
      }
      lua.lua_createtable(co, 0, 1);
      lua.lua_pushvalue(co, 1);
      lua.lua_setfield(co, -2, field);
      return 1;
    };
    fn("error_reply", reply(ERR));
    fn("status_reply", reply(OK_FIELD));
    fn("sha1hex", (co) => {
      lua.lua_pushstring(co, to_luastring(sha1hex(lua.lua_tostring(co, 1) ?? new Uint8Array())));
      return 1;
    });
    fn("log", (co) => {
      const parts: string[] = [];
      for (let i = 2; i <= lua.lua_gettop(co); i++) parts.push(text(lauxlib.luaL_tolstring(co, i)));
      this.#log(lua.lua_tonumber(co, 1), parts.join(" "));
      return 0;
    });
    fn("setresp", (co) => {
      if (lua.lua_tonumber(co, 1) !== 2) raise(co, "ERR tierkv scripts speak RESP2 only");
      return 0;
    });
    const yes = (co: lua.LuaState) => {
      lua.lua_pushboolean(co, true);
      return 1;
    };
    fn("replicate_commands", yes);
    fn("set_repl", () => 0);
    fn("breakpoint", (co) => {
      lua.lua_pushboolean(co, false);
      return 1;
    });
    fn("debug", () => 0);
    const constants: [string, number][] = [
      ["LOG_DEBUG", 0],
      ["LOG_VERBOSE", 1],
      ["LOG_NOTICE", 2],
      ["LOG_WARNING", 3],
      ["REPL_NONE", 0],
      ["REPL_AOF", 1],
      ["REPL_SLAVE", 2],
      ["REPL_REPLICA", 2],
      ["REPL_ALL", 3],
    ];
    for (const [name, value] of constants) {
      lua.lua_pushinteger(L, value);
      lua.lua_setfield(L, -2, to_luastring(name));
    }
    lua.lua_setglobal(L, to_luastring("redis"));
  }

  /** `redis.call` / `redis.pcall`: hands the command line out, and its reply back on resume. */
  #call(co: lua.LuaState, protect: boolean): number {
    const run = this.#runs.get(co);
    if (run === undefined) return raise(co, "ERR redis.call runs only inside a script");
    run.pending = { argv: argumentsOf(co), protect };
    return lua.lua_yieldk(co, 0, 0, (L) => {
      const reply = run.reply;
      run.reply = undefined;
      if (reply instanceof RedisError) {
        pushError(L, reply.message);
        if (!protect) return lua.lua_error(L);
        return 1;
      }
      pushReply(L, reply ?? null);
      return 1;
    });
  }
}

/** The arguments of a `redis.call` as command-line strings, or Redis's error for bad ones. */
function argumentsOf(co: lua.LuaState): string[] | RedisError {
  const n = lua.lua_gettop(co);
  if (n === 0) return new RedisError("ERR Please specify at least one argument for this redis lib call");
  const out: string[] = new Array(n);
  for (let i = 1; i <= n; i++) {
    const type = lua.lua_type(co, i);
    if (type === lua.LUA_TSTRING) out[i - 1] = text(lua.lua_tostring(co, i));
    else if (type === lua.LUA_TNUMBER)
      out[i - 1] = lua.lua_isinteger(co, i)
        ? String(lua.lua_tonumber(co, i))
        : formatLuaNumber(lua.lua_tonumber(co, i));
    else return new RedisError("ERR Lua redis lib command arguments must be strings or integers");
  }
  return out;
}

/** Raises an error table `{err = message}`, as Redis's library functions do. */
function raise(co: lua.LuaState, message: string): number {
  pushError(co, message);
  return lua.lua_error(co);
}

function pushError(L: lua.LuaState, message: string): void {
  lua.lua_createtable(L, 0, 1);
  lua.lua_pushstring(L, to_luastring(message));
  lua.lua_setfield(L, -2, ERR);
}

function pushStrings(L: lua.LuaState, items: readonly string[]): void {
  lua.lua_createtable(L, items.length, 0);
  for (let i = 0; i < items.length; i++) {
    lua.lua_pushstring(L, to_luastring(items[i] as string));
    lua.lua_rawseti(L, -2, i + 1);
  }
}

/**
 * A Redis reply as Lua sees it (Redis's conversion): integers are numbers, bulk strings strings,
 * nil is `false`, arrays tables, a status reply `{ok = …}`.
 */
function pushReply(L: lua.LuaState, reply: Reply): void {
  if (typeof reply === "string") lua.lua_pushstring(L, to_luastring(reply));
  else if (typeof reply === "number") {
    if (Number.isInteger(reply)) lua.lua_pushinteger(L, reply);
    else lua.lua_pushnumber(L, reply);
  } else if (reply === null) lua.lua_pushboolean(L, false);
  else if (reply instanceof Status) {
    lua.lua_createtable(L, 0, 1);
    lua.lua_pushstring(L, to_luastring(reply.text));
    lua.lua_setfield(L, -2, OK_FIELD);
  } else {
    const items = reply as readonly Reply[];
    lua.lua_checkstack(L, 3);
    lua.lua_createtable(L, items.length, 0);
    for (let i = 0; i < items.length; i++) {
      pushReply(L, items[i] as Reply);
      lua.lua_rawseti(L, -2, i + 1);
    }
  }
}

/** Deepest nesting of tables a script's reply may have. */
const MAX_REPLY_DEPTH = 100;

/**
 * A Lua value as Redis replies it: numbers become integers (truncated), `true` 1, `false` and
 * nil are nil, `{err = …}` an error, `{ok = …}` a status, other tables arrays up to their first
 * nil. (An error inside an array is answered as its text.)
 */
function toReply(L: lua.LuaState, index: number, depth: number): Reply | RedisError {
  const type = lua.lua_type(L, index);
  if (type === lua.LUA_TSTRING) return text(lua.lua_tostring(L, index));
  if (type === lua.LUA_TNUMBER) {
    const n = Math.trunc(lua.lua_tonumber(L, index));
    return Number.isFinite(n) ? n : 0;
  }
  if (type === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, index) ? 1 : null;
  if (type !== lua.LUA_TTABLE || depth > MAX_REPLY_DEPTH) return null;
  lua.lua_checkstack(L, 3);
  if (lua.lua_getfield(L, index, ERR) === lua.LUA_TSTRING) {
    const message = text(lua.lua_tostring(L, -1));
    lua.lua_pop(L, 1);
    return new RedisError(message);
  }
  lua.lua_pop(L, 1);
  if (lua.lua_getfield(L, index, OK_FIELD) === lua.LUA_TSTRING) {
    const status = new Status(text(lua.lua_tostring(L, -1)));
    lua.lua_pop(L, 1);
    return status;
  }
  lua.lua_pop(L, 1);
  const items: Reply[] = [];
  const table = index < 0 ? lua.lua_gettop(L) + index + 1 : index;
  for (let i = 1; ; i++) {
    if (lua.lua_rawgeti(L, table, i) === 0) {
      lua.lua_pop(L, 1);
      break;
    }
    const item = toReply(L, -1, depth + 1);
    lua.lua_pop(L, 1);
    items.push(item instanceof RedisError ? item.message : item);
  }
  return items;
}

/**
 * The error a failed run answers, as Redis 7 words it: an error table keeps its `err` text, any
 * other error value becomes `ERR <value>`; then where it was raised (`script: <sha>, on
 * @user_script:<line>.`), from the stack the failed coroutine keeps.
 */
function errorOfRun(co: lua.LuaState, sha: string): RedisError {
  // The dead coroutine's stack ends at its error: make room to read it.
  lua.lua_checkstack(co, 4);
  let message: string;
  if (lua.lua_type(co, -1) === lua.LUA_TTABLE) {
    message =
      lua.lua_getfield(co, -1, ERR) === lua.LUA_TSTRING
        ? text(lua.lua_tostring(co, -1))
        : "ERR unknown error";
    lua.lua_pop(co, 1);
  } else {
    message = `ERR ${text(lauxlib.luaL_tolstring(co, -1))}`;
    lua.lua_pop(co, 1);
  }
  // The innermost frame of the script itself (not the sandbox's functions, nor JavaScript's).
  const where = new lua.lua_Debug();
  for (let level = 0; lua.lua_getstack(co, level, where) === 1; level++) {
    lua.lua_getinfo(co, "Sl", where);
    if (text(where.source) === "@user_script") {
      return new RedisError(`${message} script: ${sha}, on ${text(where.source)}:${where.currentline}.`);
    }
  }
  return new RedisError(message);
}
