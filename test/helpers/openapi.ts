import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { BASE_PATH } from "../../src/core/api.ts";
import { CURSOR_PATTERN, decodeCursor } from "../../src/core/keys-page.ts";
import { MAX_BODY_BYTES, MAX_KEY_BYTES } from "../../src/core/limits.ts";

// Checks requests and answers against the API document (`GET /api/kv/openapi.json`) the way an
// OpenAPI validator would, and says whether its verdict agrees with the server's answer.

/** A JSON object of the document. */
export type Json = { [key: string]: unknown };

/** One request and its answer, as sent and received over HTTP. */
export interface Exchange {
  method: string;
  url: string;
  headers: Headers;
  body: string | undefined;
  status: number;
  responseHeaders: Headers;
  responseText: string;
}

/** A `fetch` that records every exchange (only string bodies: what the suite and the SDK send). */
export function recordingFetch(records: Exchange[]): typeof fetch {
  return async (input, init) => {
    const body = init?.body ?? undefined;
    if (body !== undefined && body !== null && typeof body !== "string") {
      throw new Error("recordingFetch records string bodies only");
    }
    const response = await fetch(input, init);
    records.push({
      method: init?.method ?? "GET",
      url: input instanceof Request ? input.url : String(input),
      headers: new Headers(init?.headers),
      body: body ?? undefined,
      status: response.status,
      responseHeaders: response.headers,
      responseText: await response.clone().text(),
    });
    return response;
  };
}

/** A new Ajv for the document's schemas (JSON Schema 2020-12, strict). */
export function newAjv(): Ajv2020 {
  // Two of strict mode's lint rules off: a branch of oneOf may require or constrain properties
  // without repeating `type: object` and the properties the object defines.
  return new Ajv2020({ strict: true, strictTypes: false, strictRequired: false });
}

/** The strings of an input that are keys or hash fields (where SPEC §1's key rules apply). */
export function keyStrings(input: unknown): string[] {
  if (typeof input !== "object" || input === null) return [];
  const o = input as Json;
  const out: string[] = [];
  for (const name of ["key", "field"]) if (typeof o[name] === "string") out.push(o[name] as string);
  for (const name of ["keys", "fields", "pairs"]) {
    const v = o[name];
    if (Array.isArray(v)) out.push(...v.filter((s): s is string => typeof s === "string"));
    else if (typeof v === "object" && v !== null) out.push(...Object.keys(v));
  }
  return out;
}

/**
 * Why the document cannot reject an input the server refuses with `code`, or undefined when it
 * can. JSON Schema counts characters, never bytes, so it cannot say:
 * - `VALUE_TOO_LARGE`: a value whose JSON encoding is over 1 MiB of UTF-8;
 * - `PAYLOAD_TOO_LARGE` for a body over 16 MiB (a batch over 1,000 items it can say);
 * - `INVALID_KEY` for a key of at most 256 characters but over 256 bytes of UTF-8 (`maxLength`
 *   catches any key over 256 characters).
 * Nor can it know which cursors `keys` answered: it checks their form only.
 */
export function inexpressible(
  code: string | undefined,
  input: unknown,
  bodyBytes: number,
): string | undefined {
  if (code === "VALUE_TOO_LARGE") return "the size of a value's JSON encoding";
  if (code === "PAYLOAD_TOO_LARGE" && bodyBytes > MAX_BODY_BYTES) return "the size of the body";
  if (
    code === "INVALID_KEY" &&
    keyStrings(input).some((k) => Buffer.byteLength(k) > MAX_KEY_BYTES && [...k].length <= MAX_KEY_BYTES)
  ) {
    return "the UTF-8 byte length of a key";
  }
  const cursor = (input as { cursor?: unknown } | undefined)?.cursor;
  if (
    code === "BAD_REQUEST" &&
    typeof cursor === "string" &&
    CURSOR_PATTERN.test(cursor) &&
    !decodes(cursor)
  ) {
    return "whether keys answered a cursor";
  }
  return undefined;
}

function decodes(cursor: string): boolean {
  try {
    decodeCursor(cursor);
    return true;
  } catch {
    return false;
  }
}

/** The server's answers that refuse a request's input (SPEC §2): the document must refuse it too. */
const INPUT_ERRORS = new Set(["BAD_REQUEST", "INVALID_KEY", "VALUE_TOO_LARGE", "PAYLOAD_TOO_LARGE"]);

/** How the document and the server saw one exchange. */
export interface Verdict {
  /** What the exchange showed: the input valid or invalid (both sides agreeing), or why it was not compared. */
  kind: "valid" | "invalid" | "excluded" | "not compared";
  /** Why it was excluded or not compared. */
  reason?: string;
  /** What the document and the server disagree on; empty when they agree. */
  problems: string[];
}

/** The document, with Ajv validators for its schemas. */
export class ApiDocument {
  readonly doc: Json;
  readonly #ajv = newAjv();
  readonly #compiled = new WeakMap<object, ValidateFunction>();

  constructor(doc: Json) {
    this.doc = doc;
  }

  /** An object of the document, following a `$ref` to `#/components/…`. */
  resolve(object: unknown): Json {
    let o = object as Json;
    while (typeof o?.$ref === "string") {
      const ref = o.$ref as string;
      if (!ref.startsWith("#/")) throw new Error(`unresolvable $ref ${ref}`);
      o = ref
        .slice(2)
        .split("/")
        .reduce<unknown>((at, step) => (at as Json | undefined)?.[step], this.doc) as Json;
      if (o === undefined) throw new Error(`dangling $ref ${ref}`);
    }
    return o;
  }

  /** Compiles (once) a schema of the document. */
  compile(schema: object): ValidateFunction {
    let validate = this.#compiled.get(schema);
    if (validate === undefined) {
      validate = this.#ajv.compile(schema);
      this.#compiled.set(schema, validate);
    }
    return validate;
  }

  /** What is wrong with `data` by `schema`, or undefined when nothing is. */
  problem(schema: object, data: unknown): string | undefined {
    const validate = this.compile(schema);
    if (validate(data)) return undefined;
    return this.#ajv.errorsText(validate.errors);
  }

  /** The operation for a method on a path under the base path (HEAD is GET's), or why there is none. */
  operation(method: string, path: string): { op?: Json; missing?: "path" | "method" } {
    const paths = this.doc.paths as Json;
    if (!path.startsWith(`${BASE_PATH}/`)) return { missing: "path" };
    const item = paths[path.slice(BASE_PATH.length)] as Json | undefined;
    if (item === undefined) return { missing: "path" };
    const op = (item[method.toLowerCase()] ?? (method === "HEAD" ? item.get : undefined)) as Json | undefined;
    return op === undefined ? { missing: "method" } : { op };
  }

  /**
   * What is wrong with a request's input by the operation (query parameters, JSON body), or
   * undefined when nothing is: unknown query parameters are refused (as the server does).
   */
  inputProblem(op: Json, url: URL, body: string | undefined): { problem?: string; input?: unknown } {
    const query = decodeQuery(url.search);
    if (typeof query === "string") return { problem: query };
    const parameters = ((op.parameters ?? []) as Json[]).map((p) => this.resolve(p));
    const inQuery = new Map(parameters.filter((p) => p.in === "query").map((p) => [p.name as string, p]));
    for (const name of Object.keys(query)) {
      if (!inQuery.has(name)) return { problem: `unknown query parameter ${name}`, input: query };
    }
    for (const [name, parameter] of inQuery) {
      if (!(name in query)) {
        if (parameter.required === true) return { problem: `${name} is required`, input: query };
        continue;
      }
      const problem = this.problem(parameter.schema as object, query[name]);
      if (problem !== undefined) return { problem: `${name}: ${problem}`, input: query };
    }
    if (op.requestBody === undefined) return { input: query };
    const requestBody = this.resolve(op.requestBody);
    if (body === undefined || body.trim() === "") {
      return requestBody.required === true ? { problem: "the body is required" } : {};
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { problem: "the body is not JSON" };
    }
    const schema = ((requestBody.content as Json)["application/json"] as Json).schema as object;
    const problem = this.problem(schema, parsed);
    return problem === undefined ? { input: parsed } : { problem: `body: ${problem}`, input: parsed };
  }

  /** What is wrong with an answer by the operation: its status, body and headers. */
  responseProblems(op: Json, ex: Exchange): string[] {
    const declared = (op.responses as Json)[String(ex.status)];
    if (declared === undefined) return [`status ${ex.status} is not documented`];
    const response = this.resolve(declared);
    const problems: string[] = [];
    let body: unknown;
    try {
      body = JSON.parse(ex.responseText);
    } catch {
      return ["the answer is not JSON"];
    }
    const schema = ((response.content as Json)["application/json"] as Json).schema as object;
    const problem = this.problem(schema, body);
    if (problem !== undefined) problems.push(`answer: ${problem}`);
    for (const [name, ref] of Object.entries((response.headers ?? {}) as Json)) {
      const header = this.resolve(ref);
      const value = ex.responseHeaders.get(name);
      if (value === null) {
        if (header.required === true) problems.push(`header ${name} is missing`);
        continue;
      }
      const headerProblem = this.problem(header.schema as object, value);
      if (headerProblem !== undefined) problems.push(`header ${name}: ${headerProblem}`);
    }
    return problems;
  }

  /** Compares the document's verdict on an exchange with the server's answer (SPEC §3's order of checks). */
  check(ex: Exchange): Verdict {
    const url = new URL(ex.url);
    let code: string | undefined;
    try {
      code = (JSON.parse(ex.responseText) as { error?: { code?: string } })?.error?.code;
    } catch {
      code = undefined;
    }
    const { op, missing } = this.operation(ex.method, url.pathname);
    // Authentication comes first: a 401 says nothing of the path or the input.
    if (ex.status === 401) {
      const problems =
        op?.security !== undefined && (op.security as unknown[]).length === 0 ? ["public"] : [];
      return { kind: "not compared", reason: "authentication", problems };
    }
    if (missing === "path") {
      const problems = ex.status === 404 ? [] : [`no such path in the document, answered ${ex.status}`];
      return { kind: "not compared", reason: "unknown path", problems };
    }
    if (missing === "method" || op === undefined) {
      const problems = ex.status === 405 ? [] : [`no such method in the document, answered ${ex.status}`];
      return { kind: "not compared", reason: "method", problems };
    }
    const problems = this.responseProblems(op, ex);
    if (ex.status === 405) problems.push("the document has this method");
    // Permission comes before the input.
    if (ex.status === 403) return { kind: "not compared", reason: "permission", problems };
    const { problem, input } = this.inputProblem(op, url, ex.body);
    const refused = ex.status >= 400 && code !== undefined && INPUT_ERRORS.has(code);
    if (refused) {
      const why = inexpressible(code, input, Buffer.byteLength(ex.body ?? ""));
      if (problem === undefined && why !== undefined) return { kind: "excluded", reason: why, problems };
      if (problem === undefined) problems.push(`the server refused it (${code}), the document accepts it`);
      return { kind: "invalid", problems };
    }
    if (problem !== undefined)
      problems.push(`the server accepted it (${ex.status}), the document does not: ${problem}`);
    return { kind: "valid", problems };
  }
}

/** A query string decoded as the server decodes it, or what is wrong with it. */
function decodeQuery(search: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of search.replace(/^\?/, "").split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, " "));
      value = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, " "));
    } catch {
      return "a query parameter is not percent-encoded UTF-8";
    }
    // A parameter of the document takes one value.
    if (Object.hasOwn(out, name)) return `${name} is given more than once`;
    out[name] = value;
  }
  return out;
}
