import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import { tempSqlite } from "../helpers/databases.ts";
import { FULL_TOKEN, READ_TOKEN, sqliteHarness, startKvServer } from "../helpers/harness.ts";

/** What a request answers: status, a few headers, the body's text. */
async function fetchText(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { redirect: "manual", ...init });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

/** How a server answers an unknown path: without a token, with the full one. */
async function unknownPathAnswers(base: string, path: string) {
  const anonymous = await fetchText(`${base}${path}`);
  const full = await fetchText(`${base}${path}`, bearer(FULL_TOKEN));
  return [anonymous.status, JSON.parse(anonymous.text), full.status, JSON.parse(full.text).error.code];
}

describe("the data browser's files", () => {
  const db = tempSqlite();
  let off: RunningServer;
  let on: RunningServer;

  beforeAll(async () => {
    const env = { DATABASE_URL: db.url, KV_READONLY_TOKEN: READ_TOKEN };
    off = await startKvServer({ env });
    on = await startKvServer({ env: { ...env, KV_BROWSER: "1" } });
  });

  afterAll(async () => {
    await off?.close();
    await on?.close();
    db.remove();
  });

  it("are not served by default: their paths answer like any unknown path", async () => {
    const unknown = await unknownPathAnswers(off.url, "/no-such-path");
    expect(unknown).toEqual([
      401,
      { error: expect.objectContaining({ code: "UNAUTHORIZED" }) },
      404,
      "NOT_FOUND",
    ]);
    for (const path of ["/browser", "/browser/", "/browser/app.js", "/browser/style.css"]) {
      expect(await unknownPathAnswers(off.url, path), path).toEqual(unknown);
    }
  });

  it("are served with KV_BROWSER=1, without a token, with strict headers", async () => {
    const types: Record<string, string> = {
      "/browser/": "text/html; charset=utf-8",
      "/browser/app.js": "text/javascript; charset=utf-8",
      "/browser/style.css": "text/css; charset=utf-8",
    };
    for (const [path, type] of Object.entries(types)) {
      const res = await fetchText(`${on.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("Content-Type"), path).toBe(type);
      expect(res.headers.get("Cache-Control"), path).toBe("no-store");
      const csp = res.headers.get("Content-Security-Policy") ?? "";
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toContain("unsafe-inline");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(res.headers.get("X-Frame-Options"), path).toBe("DENY");
      expect(res.headers.get("Referrer-Policy"), path).toBe("no-referrer");
      expect(res.headers.get("X-Content-Type-Options"), path).toBe("nosniff");
      expect(res.text.length, path).toBeGreaterThan(100);
    }
    const html = (await fetchText(`${on.url}/browser/`)).text;
    // No inline script or style: every <script> has a src, no element has a style or on* attribute.
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="app.js">']);
    expect(html).not.toMatch(/\s(style|on[a-z]+)=/i);
  });

  it("redirects /browser to /browser/ and answers HEAD without a body", async () => {
    const redirect = await fetchText(`${on.url}/browser?x=1`);
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("Location")).toBe("/browser/");
    const head = await fetch(`${on.url}/browser/app.js`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("Content-Length"))).toBeGreaterThan(100);
    expect(await head.text()).toBe("");
  });

  it("refuses other methods, and leaves other paths to the API", async () => {
    const post = await fetchText(`${on.url}/browser/`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("GET, HEAD");
    expect(JSON.parse(post.text).error.code).toBe("METHOD_NOT_ALLOWED");
    expect(await unknownPathAnswers(on.url, "/browser/index.html")).toEqual(
      await unknownPathAnswers(off.url, "/no-such-path"),
    );
    // The API itself is unchanged: the token is still required.
    expect((await fetchText(`${on.url}/api/kv/keys`)).status).toBe(401);
    expect((await fetchText(`${on.url}/api/kv/keys`, bearer(FULL_TOKEN))).status).toBe(200);
  });

  it("needs KV_TOKEN: the page works with the full token only", async () => {
    await expect(
      startKvServer({
        env: { DATABASE_URL: db.url, KV_TOKEN: "", KV_READONLY_TOKEN: READ_TOKEN, KV_BROWSER: "1" },
      }),
    ).rejects.toThrow(/KV_BROWSER=1 needs KV_TOKEN/);
  });

  it("is never served by the app the serverless builds run", async () => {
    const harness = sqliteHarness({ env: { KV_BROWSER: "1" } });
    try {
      const res = await harness.app.request("/browser/", bearer(FULL_TOKEN));
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    } finally {
      await harness.close();
    }
  });
});
