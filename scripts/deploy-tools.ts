// The platform CLIs (vercel, wrangler) are not dependencies of tierkv: together they are most of
// a development install, and only the deploy targets need them. Each is pinned, with its lockfile,
// in deploy-tools/<name>/ and installed there on first use (`npm ci`), by the conformance tests
// and by `npm run vercel -- …` / `npm run wrangler -- …`, which this file also serves:
//
//   tsx scripts/deploy-tools.ts install [vercel|wrangler]   installs them (both by default)
//   tsx scripts/deploy-tools.ts vercel build --prod          runs one, installing it first
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startedAsProgram } from "../src/adapters/entry.ts";

/** The deploy CLIs tierkv pins. */
export const TOOLS = ["vercel", "wrangler"] as const;
export type Tool = (typeof TOOLS)[number];

const ROOT = resolve(import.meta.dirname, "..");

function folder(tool: Tool): string {
  return join(ROOT, "deploy-tools", tool);
}

/** The CLI's path: the one `TIERKV_<NAME>_BIN` names, else the one in deploy-tools/<name>/. */
export function toolPath(tool: Tool): string {
  return process.env[`TIERKV_${tool.toUpperCase()}_BIN`] ?? join(folder(tool), "node_modules", ".bin", tool);
}

// What the installed tree was made from: a changed lockfile installs again.
function lockDigest(tool: Tool): string {
  return createHash("sha256")
    .update(readFileSync(join(folder(tool), "package-lock.json")))
    .digest("hex");
}

function stampPath(tool: Tool): string {
  return join(folder(tool), "node_modules", ".tierkv-lock-digest");
}

/** Whether the pinned CLI is installed (or `TIERKV_<NAME>_BIN` points at one). */
export function toolInstalled(tool: Tool): boolean {
  if (process.env[`TIERKV_${tool.toUpperCase()}_BIN`] !== undefined) return existsSync(toolPath(tool));
  const stamp = stampPath(tool);
  return existsSync(toolPath(tool)) && existsSync(stamp) && readFileSync(stamp, "utf8") === lockDigest(tool);
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", fail);
    child.once("exit", (code) =>
      code === 0 ? done() : fail(new Error(`${command} ${args.join(" ")} exited with ${code} in ${cwd}`)),
    );
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs the pinned CLI into deploy-tools/<name>/ unless it is there, and answers its path.
 * Concurrent callers (two test files, two processes) wait for one install.
 */
export async function ensureTool(tool: Tool, timeoutMs = 600_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const lock = join(folder(tool), ".installing");
  for (;;) {
    if (toolInstalled(tool)) return toolPath(tool);
    try {
      mkdirSync(lock);
    } catch {
      // Someone else installs: wait for them, unless they died without cleaning up.
      let owner = 0;
      try {
        owner = Number(readFileSync(join(lock, "pid"), "utf8")) || 0;
      } catch {
        // Not written yet, or the lock is already gone.
      }
      if (owner !== 0 && !alive(owner)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${tool}: another install did not finish in time`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      writeFileSync(join(lock, "pid"), String(process.pid));
      if (toolInstalled(tool)) return toolPath(tool);
      if (process.env[`TIERKV_${tool.toUpperCase()}_BIN`] !== undefined) {
        throw new Error(`${tool} CLI not found at ${toolPath(tool)} (TIERKV_${tool.toUpperCase()}_BIN)`);
      }
      console.error(`tierkv: installing the pinned ${tool} CLI into deploy-tools/${tool} (once)`);
      const npm = process.platform === "win32" ? "npm.cmd" : "npm";
      await run(npm, ["ci", "--prefer-offline", "--no-audit", "--no-fund"], folder(tool));
      writeFileSync(stampPath(tool), lockDigest(tool));
      return toolPath(tool);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  if (first === "install") {
    const chosen = rest.length === 0 ? TOOLS : rest;
    for (const tool of chosen) {
      if (!(TOOLS as readonly string[]).includes(tool)) throw new Error(`unknown tool ${tool}`);
      await ensureTool(tool as Tool);
    }
    return;
  }
  if (first === undefined || !(TOOLS as readonly string[]).includes(first)) {
    throw new Error(`usage: deploy-tools.ts install [${TOOLS.join("|")}] | ${TOOLS.join("|")} [args…]`);
  }
  const path = await ensureTool(first as Tool);
  const child = spawn(path, rest, { stdio: "inherit" });
  child.once("exit", (code, signal) => {
    process.exitCode = code ?? (signal === null ? 1 : 128);
  });
}

if (startedAsProgram(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`tierkv: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
