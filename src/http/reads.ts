import { formatSyncToken, parseSyncToken, type SyncToken } from "../core/sync-token.ts";
import type { Engine, ReadOptions } from "../engine/engine.ts";
import type { Exchange } from "./exchange.ts";

const NO_CACHE = /(^|,)\s*no-cache\s*(,|$)/i;

/**
 * What a request says of its reads: the sync token in `header` (SPEC §8, a lower-case name) lets
 * L1 answer only with what was read after the writes it stands for, and, where `noCache` is
 * honoured, `Cache-Control: no-cache` skips L1. `answer` puts the instance's token on the
 * response, before the response is built.
 */
export class RequestReads {
  readonly #exchange: Exchange;
  readonly #engine: Engine;
  readonly #header: string;
  readonly #sent: SyncToken | undefined;
  readonly options: ReadOptions;

  constructor(exchange: Exchange, engine: Engine, header: string, honourNoCache: boolean) {
    this.#exchange = exchange;
    this.#engine = engine;
    this.#header = header;
    this.#sent = parseSyncToken(exchange.header(header));
    const cacheControl = honourNoCache ? exchange.header("cache-control") : undefined;
    const noCache = cacheControl !== undefined && NO_CACHE.test(cacheControl);
    const after = engine.readAfter(this.#sent);
    this.options = after === undefined ? { noCache } : { noCache, after };
  }

  /** Sets the response's sync token: every write this instance acknowledged, and the one sent. */
  answer(): void {
    this.#exchange.set(this.#header, formatSyncToken(this.#engine.syncToken(this.#sent)));
  }
}
