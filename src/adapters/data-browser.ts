import { readFileSync } from "node:fs";
import { ConfigError } from "../core/errors.ts";

/** Where the Node server serves the data browser when `KV_BROWSER=1`. */
export const BROWSER_PATH = "/browser";

/** The data browser's files (plain HTML, CSS and JavaScript modules: nothing is built). */
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  [`${BROWSER_PATH}/`]: { file: "index.html", type: "text/html; charset=utf-8" },
  [`${BROWSER_PATH}/app.js`]: { file: "app.js", type: "text/javascript; charset=utf-8" },
  [`${BROWSER_PATH}/style.css`]: { file: "style.css", type: "text/css; charset=utf-8" },
};

/**
 * The page runs only its own files and talks only to its own origin; it is never framed and
 * never tells another site where it was.
 */
const SECURITY_HEADERS = {
  "Cache-Control": "no-store",
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
};

/** The path of a request's URL, without parsing URLs that cannot be the browser's. */
function pathOf(url: string): string | undefined {
  const at = url.indexOf(BROWSER_PATH);
  if (at < 0) return undefined;
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

/**
 * The data browser's static files, read once: a handler that answers the requests for them and
 * leaves every other request (`undefined`) to the API. The files hold no data, so they are served
 * without a token; every call the page makes goes to the native API with the full token.
 */
export function dataBrowser(
  dir: URL = new URL("../browser/", import.meta.url),
): (request: Request) => Response | undefined {
  const bodies = new Map<string, { body: Uint8Array; type: string }>();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    try {
      bodies.set(path, { body: readFileSync(new URL(file, dir)), type });
    } catch (error) {
      throw new ConfigError(
        `KV_BROWSER=1, but the data browser's files cannot be read: ${(error as Error).message}`,
      );
    }
  }
  return (request) => {
    const path = pathOf(request.url);
    if (path === undefined) return undefined;
    const found = bodies.get(path);
    if (found === undefined && path !== BROWSER_PATH) return undefined;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return Response.json(
        { error: { code: "METHOD_NOT_ALLOWED", message: `${path} takes GET, HEAD` } },
        { status: 405, headers: { "Cache-Control": "no-store", Allow: "GET, HEAD" } },
      );
    }
    if (found === undefined) {
      return new Response(null, {
        status: 308,
        headers: { ...SECURITY_HEADERS, Location: `${BROWSER_PATH}/` },
      });
    }
    const headers = {
      ...SECURITY_HEADERS,
      "Content-Type": found.type,
      "Content-Length": String(found.body.byteLength),
    };
    return new Response(request.method === "HEAD" ? null : (found.body as Uint8Array<ArrayBuffer>), {
      headers,
    });
  };
}
