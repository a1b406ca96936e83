import type { Context } from "hono";

/** Reads a request header by its lower-case name; several of one name come joined by ", ". */
export type HeaderReader = (c: Context, name: string) => string | undefined;

/** The portable reader: the Fetch request's own headers. */
export const fetchHeader: HeaderReader = (c, name) => c.req.header(name);

/**
 * One request and the answer being made for it. Request headers are read through the
 * platform's `HeaderReader` and response headers kept in a plain object: a Fetch `Headers`
 * object checks and sorts every name it holds, and building one for the request and one for the
 * response cost more than all of an L1 hit's own work (the Node server writes a plain object as
 * is). Every answer carries `Cache-Control: no-store`.
 */
export class Exchange {
  readonly c: Context;
  readonly #read: HeaderReader;
  /** Whether L1 answered the request's reads, for its log line. */
  cache: "HIT" | "MISS" | undefined;
  /** The response's headers so far, by lower-case name. */
  readonly headers: Record<string, string> = { "cache-control": "no-store" };

  constructor(c: Context, read: HeaderReader = fetchHeader) {
    this.c = c;
    this.#read = read;
  }

  /** A request header, by its lower-case name. */
  header(name: string): string | undefined {
    return this.#read(this.c, name);
  }

  /** Sets a response header (lower-case name). */
  set(name: string, value: string): void {
    this.headers[name] = value;
  }

  /** The answer: `body`, with the headers set so far. */
  reply(body: string, status: number, contentType = "application/json"): Response {
    this.headers["content-type"] = contentType;
    return new Response(body, { status, headers: this.headers });
  }

  /** A JSON answer of `value`. */
  json(value: unknown, status = 200): Response {
    return this.reply(JSON.stringify(value), status);
  }
}
