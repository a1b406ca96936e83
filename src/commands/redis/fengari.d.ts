// Types of the parts of fengari (a Lua 5.3 VM in JavaScript) that the scripting bridge uses.
// fengari ships none; its C-API mirror takes Lua strings as byte arrays.

declare module "fengari" {
  export function to_luastring(s: string): Uint8Array;

  export namespace lua {
    /** One Lua thread (the main state or a coroutine). */
    export interface LuaState {
      readonly __brand: "LuaState";
    }
    export type LuaJsFunction = (L: LuaState) => number;
    export type LuaContinuation = (L: LuaState, status: number, ctx: number) => number;
    export class lua_Debug {
      what: Uint8Array | null;
      source: Uint8Array | null;
      currentline: number;
    }
    export type LuaHook = (L: LuaState, ar: lua_Debug) => void;

    export const LUA_OK: number;
    export const LUA_YIELD: number;
    export const LUA_ERRRUN: number;
    export const LUA_MASKCOUNT: number;
    export const LUA_REGISTRYINDEX: number;
    export const LUA_TNIL: number;
    export const LUA_TBOOLEAN: number;
    export const LUA_TNUMBER: number;
    export const LUA_TSTRING: number;
    export const LUA_TTABLE: number;
    export const LUA_TLIGHTUSERDATA: number;

    export function lua_newthread(L: LuaState): LuaState;
    export function lua_resume(L: LuaState, from: LuaState | null, nargs: number): number;
    export function lua_yieldk(L: LuaState, nresults: number, ctx: number, k: LuaContinuation | null): number;
    export function lua_yield(L: LuaState, nresults: number): number;
    export function lua_error(L: LuaState): number;
    export function lua_sethook(L: LuaState, hook: LuaHook | null, mask: number, count: number): void;
    export function lua_getstack(L: LuaState, level: number, ar: lua_Debug): number;
    export function lua_getinfo(L: LuaState, what: string, ar: lua_Debug): number;
    export function lua_call(L: LuaState, nargs: number, nresults: number): void;

    export function lua_gettop(L: LuaState): number;
    export function lua_settop(L: LuaState, index: number): void;
    export function lua_pop(L: LuaState, n: number): void;
    export function lua_xmove(from: LuaState, to: LuaState, n: number): void;
    export function lua_type(L: LuaState, index: number): number;
    export function lua_checkstack(L: LuaState, n: number): number;
    export function lua_concat(L: LuaState, n: number): void;
    export function lua_absindex(L: LuaState, index: number): number;
    export function lua_next(L: LuaState, index: number): number;
    export function lua_pushlightuserdata(L: LuaState, p: unknown): void;

    export function lua_pushnil(L: LuaState): void;
    export function lua_pushboolean(L: LuaState, b: boolean | number): void;
    export function lua_pushinteger(L: LuaState, n: number): void;
    export function lua_pushnumber(L: LuaState, n: number): void;
    export function lua_pushstring(L: LuaState, s: Uint8Array): Uint8Array;
    export function lua_pushjsfunction(L: LuaState, fn: LuaJsFunction): void;
    export function lua_pushvalue(L: LuaState, index: number): void;
    export function lua_createtable(L: LuaState, narr: number, nrec: number): void;
    export function lua_rawseti(L: LuaState, index: number, i: number): void;
    export function lua_rawgeti(L: LuaState, index: number, i: number): number;
    export function lua_setfield(L: LuaState, index: number, k: Uint8Array): void;
    export function lua_getfield(L: LuaState, index: number, k: Uint8Array): number;
    export function lua_rawget(L: LuaState, index: number): number;
    export function lua_setglobal(L: LuaState, name: Uint8Array): void;
    export function lua_setupvalue(L: LuaState, funcindex: number, n: number): Uint8Array | null;

    export function lua_toboolean(L: LuaState, index: number): boolean;
    export function lua_tonumber(L: LuaState, index: number): number;
    export function lua_isinteger(L: LuaState, index: number): boolean;
    export function lua_tointeger(L: LuaState, index: number): number;
    export function lua_tostring(L: LuaState, index: number): Uint8Array | null;
  }

  export namespace lauxlib {
    export function luaL_newstate(): lua.LuaState;
    export function luaL_loadbufferx(
      L: lua.LuaState,
      buff: Uint8Array,
      size: number,
      name: Uint8Array,
      mode: Uint8Array | null,
    ): number;
    export function luaL_requiref(
      L: lua.LuaState,
      name: Uint8Array,
      open: (L: lua.LuaState) => number,
      global: boolean | number,
    ): void;
    export function luaL_ref(L: lua.LuaState, t: number): number;
    export function luaL_unref(L: lua.LuaState, t: number, ref: number): void;
    export function luaL_tolstring(L: lua.LuaState, index: number): Uint8Array;
    export function luaL_checknumber(L: lua.LuaState, arg: number): number;
    export function luaL_where(L: lua.LuaState, level: number): void;
    export function luaL_typename(L: lua.LuaState, index: number): Uint8Array;
    export function luaL_checkstack(L: lua.LuaState, space: number, message: string | null): void;
  }

  export namespace lualib {
    export function luaopen_base(L: lua.LuaState): number;
    export function luaopen_table(L: lua.LuaState): number;
    export function luaopen_string(L: lua.LuaState): number;
    export function luaopen_math(L: lua.LuaState): number;
  }
}

declare module "fengari/src/lobject.js" {
  /** A Lua value slot (the fields and methods the number patch uses). */
  export interface TValue {
    value: number;
    ttisinteger(): boolean;
    setfltvalue(n: number): void;
    setsvalue(s: unknown): void;
  }
  /** The module's exports object, whose functions fengari calls through it. */
  const lobject: {
    luaO_str2num: (s: Uint8Array, o: TValue) => number;
    luaO_tostring: (L: unknown, o: TValue) => void;
  };
  export default lobject;
}

declare module "fengari/src/lstring.js" {
  export function luaS_bless(L: unknown, s: Uint8Array): unknown;
}
