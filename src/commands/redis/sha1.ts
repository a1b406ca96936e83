import { createHash } from "node:crypto";

/** The SHA1 of a script's text, as Redis names scripts (lower-case hex). */
export function sha1hex(text: string | Uint8Array): string {
  return createHash("sha1").update(text).digest("hex");
}
