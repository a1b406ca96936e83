import type { Context } from "hono";
import { formatSyncToken, parseSyncToken, type SyncToken } from "../core/sync-token.ts";
import type { Engine, ReadOptions } from "../engine/engine.ts";

const NO_CACHE = /(^|,)\s*no-cache\s*(,|$)/i;

/**
 * What a request says of its reads: the sync token in `header` (SPEC §8) lets L1 answer only
 * with what was read after the writes it stands for, and, where `noCache` is honoured,
 * `Cache-Control: no-cache` skips L1. `answer` puts the instance's token on the response,
 * before the response is built.
 */
export class RequestReads {
  readonly #c: Context;
  readonly #engine: Engine;
  readonly #header: string;
  readonly #sent: SyncToken | undefined;
  readonly options: ReadOptions;

  constructor(c: Context, engine: Engine, header: string, honourNoCache: boolean) {
    this.#c = c;
    this.#engine = engine;
    this.#header = header;
    this.#sent = parseSyncToken(c.req.header(header));
    const noCache = honourNoCache && NO_CACHE.test(c.req.header("Cache-Control") ?? "");
    const after = engine.readAfter(this.#sent);
    this.options = after === undefined ? { noCache } : { noCache, after };
  }

  /** Sets the response's sync token: every write this instance acknowledged, and the one sent. */
  answer(): void {
    this.#c.header(this.#header, formatSyncToken(this.#engine.syncToken(this.#sent)));
  }
}
