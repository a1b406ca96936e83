import { WrongTypeError } from "../core/errors.ts";
import { createRecord, JsonText, type JsonValue } from "../core/types.ts";
import type { FieldSelection, Snapshot } from "./types.ts";

// Reads answered from a snapshot, each as a value (a fresh copy, parsed from the snapshot's JSON
// text) and as JSON text (answered as is, with nothing parsed).

function parse(json: string | undefined): JsonValue | undefined {
  return json === undefined ? undefined : (JSON.parse(json) as JsonValue);
}

/** The JSON text `get` answers; `WRONGTYPE` for a hash, undefined when the key is missing. */
export function snapshotGetJson(s: Snapshot): string | undefined {
  if (s.kind === "hash") throw new WrongTypeError();
  return s.kind === "string" ? s.json : undefined;
}

/** `get` answered from a snapshot. */
export function snapshotGet(s: Snapshot): JsonValue | undefined {
  return parse(snapshotGetJson(s));
}

/** The JSON text `hget` answers, from a snapshot that holds the field (or is complete). */
export function snapshotHGetJson(s: Snapshot, field: string): string | undefined {
  if (s.kind === "string") throw new WrongTypeError();
  return s.kind === "hash" ? s.fields.get(field) : undefined;
}

/** `hget` answered from a snapshot that holds the field (or is complete). */
export function snapshotHGet(s: Snapshot, field: string): JsonValue | undefined {
  return parse(snapshotHGetJson(s, field));
}

/** The fields `hgetall` answers, as JSON texts, from a complete snapshot. */
function hashFields(s: Snapshot): [string, string][] {
  if (s.kind === "string") throw new WrongTypeError();
  const out: [string, string][] = [];
  if (s.kind === "hash")
    for (const [field, json] of s.fields) if (json !== undefined) out.push([field, json]);
  return out;
}

/** `hgetall` answered from a complete snapshot. */
export function snapshotHGetAll(s: Snapshot): Record<string, JsonValue> {
  const out = createRecord<JsonValue>();
  for (const [field, json] of hashFields(s)) out[field] = JSON.parse(json) as JsonValue;
  return out;
}

/** `hgetall` as JSON text, from a complete snapshot. */
export function snapshotHGetAllJson(s: Snapshot): JsonText {
  return objectText(hashFields(s));
}

/** Only the keys holding a string, with their JSON texts. */
function strings(keys: string[], snaps: Map<string, Snapshot>): [string, string][] {
  const out: [string, string][] = [];
  for (const key of keys) {
    const s = snaps.get(key);
    if (s?.kind === "string") out.push([key, s.json]);
  }
  return out;
}

/** The answer of `mget` for a set of snapshots: only the keys holding a string. */
export function snapshotsMGet(keys: string[], snaps: Map<string, Snapshot>): Record<string, JsonValue> {
  const out = createRecord<JsonValue>();
  for (const [key, json] of strings(keys, snaps)) out[key] = JSON.parse(json) as JsonValue;
  return out;
}

/** `mget` as JSON text. */
export function snapshotsMGetJson(keys: string[], snaps: Map<string, Snapshot>): JsonText {
  return objectText(strings(keys, snaps));
}

/** A JSON object written from names and the JSON texts of their values. */
function objectText(entries: [string, string][]): JsonText {
  let text = "{";
  for (let i = 0; i < entries.length; i++) {
    const [name, json] = entries[i] as [string, string];
    text += `${i === 0 ? "" : ","}${JSON.stringify(name)}:${json}`;
  }
  return new JsonText(`${text}}`);
}

/** Whether a snapshot can answer a read of the given hash fields. */
export function snapshotCovers(s: Snapshot, fields: FieldSelection): boolean {
  if (s.kind !== "hash" || fields === "none") return true;
  if (s.complete) return true;
  return fields !== "all" && fields.every((f) => s.fields.has(f));
}
