/**
 * Read-your-writes across instances (SPEC §8). A sync token is a point in an instance's write
 * history: `<ms>-<seq>` (the epoch milliseconds of a write's acknowledgement and a counter among
 * writes in that millisecond), with `-<instance>` after it while every write it stands for went
 * through that one instance. An instance answers each request with the merge of the token it was
 * sent and its own; a request that sends one back sees every write it stands for.
 */
export interface SyncToken {
  readonly ms: number;
  readonly seq: number;
  /** The one instance whose writes the token stands for; absent when they may be several. */
  readonly instance?: string;
}

/** The header of each protocol that carries the token, both ways. */
export const NATIVE_SYNC_HEADER = "X-KV-Sync-Token";
export const REDIS_SYNC_HEADER = "upstash-sync-token";

const TOKEN = /^(\d{1,15})-(\d{1,9})(?:-([0-9a-z]{1,32}))?$/;

/** The token a header holds; undefined when it is missing, empty or malformed (then ignored). */
export function parseSyncToken(text: string | null | undefined): SyncToken | undefined {
  if (text === null || text === undefined || text.length > 64) return undefined;
  const match = TOKEN.exec(text.trim());
  if (match === null) return undefined;
  const ms = Number(match[1]);
  const seq = Number(match[2]);
  return match[3] === undefined ? { ms, seq } : { ms, seq, instance: match[3] };
}

export function formatSyncToken(token: SyncToken): string {
  const at = `${token.ms}-${token.seq}`;
  return token.instance === undefined ? at : `${at}-${token.instance}`;
}

/** Whether `a` is later in write history than `b`. */
function later(a: SyncToken, b: SyncToken): boolean {
  return a.ms > b.ms || (a.ms === b.ms && a.seq > b.seq);
}

/**
 * A token standing for the writes of both: the later point, naming an instance only when both
 * name the same one.
 */
export function mergeSyncTokens(a: SyncToken | undefined, b: SyncToken | undefined): SyncToken | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const top = later(a, b) ? a : b;
  if (a.instance !== undefined && a.instance === b.instance) return top;
  return top.instance === undefined ? top : { ms: top.ms, seq: top.seq };
}
