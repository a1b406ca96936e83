import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";

/**
 * Whether the module at `moduleUrl` is the program Node was started with (`npm start`,
 * `tsx file.ts`), not a module imported by another. realpath and pathToFileURL make the
 * comparison hold for paths with spaces, non-ASCII characters or symlinks.
 */
export function startedAsProgram(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && moduleUrl === pathToFileURL(realpathSync(entry)).href;
}
