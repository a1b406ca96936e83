import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ensureTool, type Tool, toolPath } from "../../scripts/deploy-tools.ts";

/** The tokens every conformance target is started with. */
export const TARGET_TOKENS = {
  token: "conformance-full-token-0123456789",
  readonlyToken: "conformance-read-token-0123456789",
} as const;

/** The repository root (vitest runs from it). */
export const ROOT = resolve(import.meta.dirname, "../..");

/** Environment for the platform CLIs: no telemetry, no network look-ups, no prompts. */
export const OFFLINE_ENV = {
  VERCEL_TELEMETRY_DISABLED: "1",
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "true",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
} as const;

/**
 * The path of a pinned platform CLI (deploy-tools/<name>/, see scripts/deploy-tools.ts), or of
 * the one a `TIERKV_<NAME>_BIN` variable names. A missing CLI is an error: a target that cannot
 * start fails the run instead of being skipped. `ensureCli` installs it first.
 */
export function cliPath(name: Tool): string {
  const path = toolPath(name);
  if (!existsSync(path)) {
    throw new Error(`${name} CLI not found at ${path}: the test file's ensureCli("${name}") installs it`);
  }
  return path;
}

/** Installs the pinned CLI on first use (a few minutes from an empty npm cache), then answers its path. */
export function ensureCli(name: Tool): Promise<string> {
  return ensureTool(name);
}

/** How long a test file waits for `ensureCli` (an install from an empty npm cache). */
export const INSTALL_TIMEOUT_MS = 600_000;

/** A process started by a test, with everything it printed. */
export interface TargetProcess {
  child: ChildProcess;
  output: () => string;
  /** Ends the process group (SIGTERM, then SIGKILL after 5 s) and waits for it. */
  stop: () => Promise<void>;
}

/** Starts a command in its own process group, collecting its output. */
export function startProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): TargetProcess {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const pid = child.pid;
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(-pid, name);
        } catch {
          // Already gone.
        }
      };
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a command to completion; rejects with its output when it exits non-zero or times out. */
export async function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs: number },
): Promise<string> {
  const proc = startProcess(command, args, options);
  const timer = setTimeout(() => void proc.stop(), options.timeoutMs);
  const code = await new Promise<number | null>((done) => proc.child.once("exit", (c) => done(c)));
  clearTimeout(timer);
  if (code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${code}:\n${proc.output().slice(-4000)}`);
  }
  return proc.output();
}

/** Waits until a process prints a line matching `pattern`; fails when it exits or the time runs out. */
export async function waitForOutput(
  proc: TargetProcess,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = proc.output().match(pattern);
    if (match !== null) return match;
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`the process exited before it was ready:\n${proc.output().slice(-4000)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`not ready after ${timeoutMs} ms:\n${proc.output().slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until `url` answers any HTTP status. */
export async function waitForHttp(url: string, proc: TargetProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (proc.child.exitCode !== null) throw new Error(`the process exited:\n${proc.output().slice(-4000)}`);
      if (Date.now() > deadline)
        throw new Error(`${url} did not answer in ${timeoutMs} ms:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** A TCP port that was free on loopback a moment ago (for CLIs that need a fixed port). */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
