import { WrongTypeError } from "../core/errors.ts";
import { createRecord, type JsonValue } from "../core/types.ts";
import type { Snapshot } from "./types.ts";

/** `get` answered from a snapshot. */
export function snapshotGet(s: Snapshot): JsonValue | undefined {
  if (s.kind === "hash") throw new WrongTypeError();
  return s.kind === "string" ? s.value : undefined;
}

/** `hget` answered from a snapshot that holds the field (or is complete). */
export function snapshotHGet(s: Snapshot, field: string): JsonValue | undefined {
  if (s.kind === "string") throw new WrongTypeError();
  return s.kind === "hash" ? s.fields.get(field) : undefined;
}

/** `hgetall` answered from a complete snapshot. */
export function snapshotHGetAll(s: Snapshot): Record<string, JsonValue> {
  if (s.kind === "string") throw new WrongTypeError();
  const out = createRecord<JsonValue>();
  if (s.kind === "hash") for (const [field, value] of s.fields) if (value !== undefined) out[field] = value;
  return out;
}

/** Whether a snapshot can answer a read of the given hash fields. */
export function snapshotCovers(s: Snapshot, fields: "none" | "all" | string[]): boolean {
  if (s.kind !== "hash" || fields === "none") return true;
  if (s.complete) return true;
  return fields !== "all" && fields.every((f) => s.fields.has(f));
}

/** The answer of `mget` for a set of snapshots: only the keys holding a string. */
export function snapshotsMGet(keys: string[], snaps: Map<string, Snapshot>): Record<string, JsonValue> {
  const out = createRecord<JsonValue>();
  for (const key of keys) {
    const s = snaps.get(key);
    if (s?.kind === "string") out[key] = s.value;
  }
  return out;
}
