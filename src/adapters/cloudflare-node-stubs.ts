// Stand-ins for two Node-only packages in the Worker bundle. fengari (the Lua VM of scripting)
// loads its debug and os libraries when `process` exists, as it does under nodejs_compat, and
// they require `readline-sync` (whose load calls `process.binding`, which workerd lacks) and
// `tmp`. tierkv's scripts never get either library, so nothing here is ever called.

/** readline-sync: what fengari's debug library calls when it loads. */
export function setDefaultOptions(): void {}

/** readline-sync: `debug.debug()`'s prompt (scripts have no `debug`). */
export function prompt(): string {
  return "";
}

/** tmp: `os.tmpname()` (scripts have no `os`). */
export function tmpNameSync(): string {
  throw new Error("no temporary files in a Worker");
}
