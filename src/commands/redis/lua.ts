import { lauxlib, lua, lualib, to_luastring } from "fengari";
import lobject from "fengari/src/lobject.js";
import { luaS_bless } from "fengari/src/lstring.js";
import { RedisError, type Reply, ScriptTimeoutError, Status } from "./reply.ts";
import { sha1hex } from "./sha1.ts";

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

/** A Lua string as JavaScript text (invalid UTF-8 becomes U+FFFD, as tierkv's values are text). */
function text(bytes: Uint8Array | null): string {
  return bytes === null ? "" : UTF8.decode(bytes);
}

/** A number as C's `%.<precision>g` prints it (Lua 5.1's `tostring` is `%.14g`, Redis's arguments `%.17g`). */
export function formatG(n: number, precision: number): string {
  // Whole numbers of up to 15 digits print as integers at either precision (the common case).
  if (Number.isInteger(n) && Math.abs(n) < 1e15 && !Object.is(n, -0)) return String(n);
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  const trim = (digits: string) =>
    digits.includes(".") ? digits.replace(/0+$/, "").replace(/\.$/, "") : digits;
  const [mantissa, exp] = n.toExponential(precision - 1).split("e") as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= precision)
    return `${trim(mantissa)}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  return trim(n.toFixed(precision - 1 - e));
}

/**
 * Lua 5.1's numbers on fengari. Redis runs Lua 5.1, whose numbers are all doubles; fengari is
 * Lua 5.3 with 32-bit integers that wrap (`1000000 * 3000` would be -1294967296, and a window
 * of milliseconds times a count would overflow). So every numeral and every string read as a
 * number is a double, as in 5.1, and a double prints as 5.1 prints it (`%.14g`: `10/2` is "5",
 * not 5.3's "5.0"), in `tostring` and `..` alike. fengari reaches both functions through its
 * module object, so replacing them there changes every caller; nothing else in the process
 * uses fengari.
 */
function useLua51Numbers(): void {
  const str2num = lobject.luaO_str2num;
  const HEX = /^\s*([-+]?)0[xX]([0-9a-fA-F]+)\s*$/;
  lobject.luaO_str2num = (s, o) => {
    const size = str2num(s, o);
    if (size !== 0 && o.ttisinteger()) {
      // A hex numeral wraps to 32 bits in fengari; 5.1 reads 0xFFFFFFFF as 4294967295.
      const hex = HEX.exec(UTF8.decode(s));
      o.setfltvalue(
        hex === null ? o.value : (hex[1] === "-" ? -1 : 1) * Number.parseInt(hex[2] as string, 16),
      );
    }
    return size;
  };
  lobject.luaO_tostring = (L, o) => {
    o.setsvalue(luaS_bless(L, to_luastring(o.ttisinteger() ? String(o.value) : formatG(o.value, 14))));
  };
}
useLua51Numbers();

/** What one run of a script is doing, found by the thread it runs on. */
interface Run {
  deadline: number;
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
local G, string, table, math, redis, cjson, bit = _G, string, table, math, redis, cjson, bit
local rawload, rawset, setmetatable, error, tostring, type, pairs = load, rawset, setmetatable, error, tostring, type, pairs
local rep = string.rep
local MAX = ${MAX_STRING_BYTES}

function string.rep(s, n, sep)
  if type(s) == "string" and type(n) == "number" and n > 0 and (#s + #(sep or "")) * n > MAX then
    error("string.rep: the result would exceed " .. MAX .. " bytes", 2)
  end
  return rep(s, n, sep)
end
string.dump = nil
-- Lua 5.1 prints a number with %.14g in tostring too (luaL_tolstring does not reach the patch).
local rawtostring, mathtype, number2str = tostring, math.type, number2str
-- 5.1's floor and ceil answer doubles, so products of their results do not wrap at 32 bits.
local floor, ceil = math.floor, math.ceil
math.floor = function(x) return floor(x) + 0.0 end
math.ceil = function(x) return ceil(x) + 0.0 end

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
globals.string, globals.table, globals.math, globals.redis, globals.bit, globals.cjson =
  readonly(string), readonly(table), readonly(math), readonly(redis), readonly(bit), readonly(cjson)
globals.unpack = table.unpack
globals.number2str = nil
globals.tostring = function(v)
  if mathtype(v) == "float" then return number2str(v) end
  return rawtostring(v)
end
-- Redis's pcall answers an error table's text, as redis.call's errors are caught by scripts.
-- Both protected calls also turn the thread's hooks back on: fengari leaves them off after a
-- caught error (lua_pcallk saves 'allowhook' wrongly), which would let a loop escape the limit.
local rawpcall, rawxpcall, repairhooks = pcall, xpcall, repairhooks
local function rearmed(...)
  repairhooks()
  return ...
end
local function caught(ok, ...)
  repairhooks()
  if not ok then
    local e = ...
    if type(e) == "table" and type(e.err) == "string" then return false, e.err end
  end
  return ok, ...
end
globals.pcall = function(f, ...) return caught(rawpcall(f, ...)) end
globals.xpcall = function(f, handler, ...) return rearmed(rawxpcall(f, handler, ...)) end
globals.repairhooks = nil
globals.rawset = function(t, k, v)
  if frozen[t] then error("Attempt to modify a readonly table", 2) end
  return rawset(t, k, v)
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
    installCjson(L);
    installBit(L);
    lua.lua_pushjsfunction(L, (co) => {
      lua.lua_pushstring(co, to_luastring(formatG(lauxlib.luaL_checknumber(co, 1), 14)));
      return 1;
    });
    lua.lua_setglobal(L, to_luastring("number2str"));
    lua.lua_pushjsfunction(L, (co) => {
      (co as unknown as { allowhook: number }).allowhook = 1;
      return 0;
    });
    lua.lua_setglobal(L, to_luastring("repairhooks"));
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
    options: { timeLimitMs: number },
  ): Promise<Reply | RedisError> {
    const co = lua.lua_newthread(this.#L);
    lua.lua_pop(this.#L, 1);
    const run: Run = {
      deadline: Date.now() + options.timeLimitMs,
      pending: undefined,
      reply: undefined,
      killed: false,
    };
    this.#runs.set(co, run);
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
      if (run.killed) return new ScriptTimeoutError(options.timeLimitMs, script.sha);
      const pending = run.pending;
      run.pending = undefined;
      if (pending === undefined) return new RedisError(`ERR scripts may not yield script: ${script.sha}`);
      run.reply = pending.argv instanceof RedisError ? pending.argv : await runner(pending.argv);
      if (Date.now() > run.deadline) return new ScriptTimeoutError(options.timeLimitMs, script.sha);
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

/** Deepest nesting cjson encodes or decodes (Redis's cjson stops at 1,000). */
const MAX_JSON_DEPTH = 1_000;

/** Raises an error message with where the script called from, as cjson's errors are. */
function fail(L: lua.LuaState, message: string): never {
  lauxlib.luaL_where(L, 1);
  lua.lua_pushstring(L, to_luastring(message));
  lua.lua_concat(L, 2);
  lua.lua_error(L);
  throw new Error("unreachable");
}

/** A Lua value as JSON (cjson's rules: a table with keys 1..n is an array, others objects). */
function toJson(L: lua.LuaState, index: number, depth: number): unknown {
  switch (lua.lua_type(L, index)) {
    case lua.LUA_TNIL:
    case lua.LUA_TLIGHTUSERDATA:
      return null;
    case lua.LUA_TBOOLEAN:
      return lua.lua_toboolean(L, index);
    case lua.LUA_TNUMBER: {
      const n = lua.lua_tonumber(L, index);
      if (!Number.isFinite(n)) fail(L, "Cannot serialise number: must not be NaN or Infinity");
      return lua.lua_isinteger(L, index) ? n : Number(n.toPrecision(14));
    }
    case lua.LUA_TSTRING:
      return text(lua.lua_tostring(L, index));
    case lua.LUA_TTABLE: {
      if (depth >= MAX_JSON_DEPTH) fail(L, `Cannot serialise, excessive nesting (${depth + 1})`);
      const table = lua.lua_absindex(L, index);
      lauxlib.luaL_checkstack(L, 4, null);
      const entries: [unknown, unknown][] = [];
      let arrayLike = true;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, table) !== 0) {
        const key: unknown =
          lua.lua_type(L, -2) === lua.LUA_TNUMBER
            ? lua.lua_tonumber(L, -2)
            : text(lauxlib.luaL_tolstring(L, -2));
        if (typeof key !== "number") lua.lua_pop(L, 1);
        if (typeof key !== "number" || !Number.isInteger(key) || key < 1) arrayLike = false;
        entries.push([key, toJson(L, -1, depth + 1)]);
        lua.lua_pop(L, 1);
      }
      if (entries.length === 0) return {};
      if (arrayLike) {
        // cjson's rule: holes are nulls, unless the array is more than half holes (and longer than 10).
        const max = Math.max(...entries.map(([k]) => k as number));
        if (max > entries.length * 2 && max > 10) fail(L, "Cannot serialise table: excessively sparse array");
        const out: unknown[] = new Array(max).fill(null);
        for (const [k, v] of entries) out[(k as number) - 1] = v;
        return out;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of entries) out[typeof k === "number" ? formatG(k, 17) : (k as string)] = v;
      return out;
    }
    default:
      return fail(L, `Cannot serialise ${text(lauxlib.luaL_typename(L, index))}: type not supported`);
  }
}

/** A JSON value as Lua (cjson's rules: null is `cjson.null`). */
function pushJson(L: lua.LuaState, value: unknown, depth: number): void {
  if (depth > MAX_JSON_DEPTH) fail(L, "Found too many nested data structures");
  lauxlib.luaL_checkstack(L, 3, null);
  if (value === null) lua.lua_pushlightuserdata(L, null);
  else if (typeof value === "boolean") lua.lua_pushboolean(L, value);
  else if (typeof value === "number") {
    lua.lua_pushnumber(L, value);
  } else if (typeof value === "string") lua.lua_pushstring(L, to_luastring(value));
  else if (Array.isArray(value)) {
    lua.lua_createtable(L, value.length, 0);
    value.forEach((item, i) => {
      pushJson(L, item, depth + 1);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    const entries = Object.entries(value as Record<string, unknown>);
    lua.lua_createtable(L, 0, entries.length);
    for (const [k, v] of entries) {
      pushJson(L, v, depth + 1);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  }
}

/** LuaBitOp's `bit` library, as Redis gives scripts: 32-bit operations, signed results. */
function installBit(L: lua.LuaState): void {
  const arg = (co: lua.LuaState, i: number) => lauxlib.luaL_checknumber(co, i) | 0;
  const fold = (op: (a: number, b: number) => number) => (co: lua.LuaState) => {
    let r = arg(co, 1);
    for (let i = 2; i <= lua.lua_gettop(co); i++) r = op(r, arg(co, i));
    lua.lua_pushnumber(co, r | 0);
    return 1;
  };
  const unary = (op: (x: number) => number) => (co: lua.LuaState) => {
    lua.lua_pushnumber(co, op(arg(co, 1)) | 0);
    return 1;
  };
  const shift = (op: (x: number, n: number) => number) => (co: lua.LuaState) => {
    lua.lua_pushnumber(co, op(arg(co, 1), arg(co, 2) & 31) | 0);
    return 1;
  };
  const functions: [string, (co: lua.LuaState) => number][] = [
    ["tobit", unary((x) => x)],
    ["bnot", unary((x) => ~x)],
    ["bswap", unary((x) => ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24))],
    ["band", fold((a, b) => a & b)],
    ["bor", fold((a, b) => a | b)],
    ["bxor", fold((a, b) => a ^ b)],
    ["lshift", shift((x, n) => x << n)],
    ["rshift", shift((x, n) => x >>> n)],
    ["arshift", shift((x, n) => x >> n)],
    ["rol", shift((x, n) => (x << n) | (x >>> (32 - n)))],
    ["ror", shift((x, n) => (x >>> n) | (x << (32 - n)))],
    [
      "tohex",
      (co) => {
        const x = arg(co, 1);
        const n = lua.lua_gettop(co) >= 2 ? arg(co, 2) : 8;
        const hex = (x >>> 0).toString(16).padStart(8, "0");
        const digits = hex.slice(8 - Math.min(Math.abs(n), 8));
        lua.lua_pushstring(co, to_luastring(n < 0 ? digits.toUpperCase() : digits));
        return 1;
      },
    ],
  ];
  lua.lua_createtable(L, 0, functions.length);
  for (const [name, f] of functions) {
    lua.lua_pushjsfunction(L, f);
    lua.lua_setfield(L, -2, to_luastring(name));
  }
  lua.lua_setglobal(L, to_luastring("bit"));
}

/** Redis's cjson library: `encode`, `decode` and `null`. */
function installCjson(L: lua.LuaState): void {
  lua.lua_createtable(L, 0, 3);
  lua.lua_pushjsfunction(L, (co) => {
    if (lua.lua_gettop(co) !== 1) fail(co, "bad argument #1 to 'encode' (expected 1 argument)");
    lua.lua_pushstring(co, to_luastring(JSON.stringify(toJson(co, 1, 0))));
    return 1;
  });
  lua.lua_setfield(L, -2, to_luastring("encode"));
  lua.lua_pushjsfunction(L, (co) => {
    const source = lua.lua_type(co, 1) === lua.LUA_TSTRING ? text(lua.lua_tostring(co, 1)) : undefined;
    if (source === undefined) fail(co, "bad argument #1 to 'decode' (string expected)");
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (error) {
      fail(co, `Expected value but found invalid JSON (${(error as Error).message})`);
    }
    pushJson(co, value, 0);
    return 1;
  });
  lua.lua_setfield(L, -2, to_luastring("decode"));
  lua.lua_pushlightuserdata(L, null);
  lua.lua_setfield(L, -2, to_luastring("null"));
  lua.lua_setglobal(L, to_luastring("cjson"));
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
        : formatG(lua.lua_tonumber(co, i), 17);
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
  else if (typeof reply === "number") lua.lua_pushnumber(L, reply);
  else if (reply === null) lua.lua_pushboolean(L, false);
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
