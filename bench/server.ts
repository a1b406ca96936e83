import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");

/** A server the bench started: where it listens, and its process. */
export interface Server {
  url: string;
  child: ChildProcess;
}

/**
 * Starts `script` (a path under the repository) with `env` on top of this process's environment,
 * and resolves once it says where it listens (`spawned` gets the process at once, to stop it
 * whatever happens). Its log is read and dropped from then on, so its
 * pipe never fills.
 */
export function startServer(
  script: string,
  env: Record<string, string>,
  spawned?: (child: ChildProcess) => void,
): Promise<Server> {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, script)], {
    cwd: root,
    env: { ...process.env, PORT: "0", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  spawned?.(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] === undefined) return;
      child.stdout?.off("data", onData);
      child.stdout?.resume();
      resolve({ url: match[1], child });
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}
