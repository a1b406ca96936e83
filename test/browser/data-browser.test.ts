import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Browser, chromium, type Dialog, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import { tempSqlite } from "../helpers/databases.ts";
import { client, FULL_TOKEN, READ_TOKEN, resultOf, startKvServer } from "../helpers/harness.ts";

/** Debian's chromium, driven by playwright-core (no browser is ever downloaded). */
/** The Chromium to drive: an installed one, never a downloaded one. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = join(import.meta.dirname, "../../test-artifacts/data-browser.png");
const XSS_KEY = "<img src=x onerror=alert(1)>";

describe("the data browser in a real browser", () => {
  const db = tempSqlite();
  let server: RunningServer;
  let kv: ReturnType<typeof client>;
  let browser: Browser;
  let page: Page;
  /** Every dialog the page opened, and what the next confirm() is answered. */
  const dialogs: { type: string; message: string }[] = [];
  let answer: "accept" | "dismiss" = "accept";
  /** Script errors and console errors (a CSP violation is one). */
  const errors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get update && apt-get install -y chromium) to run the data browser's test`,
      );
    }
    server = await startKvServer({
      env: { DATABASE_URL: db.url, KV_READONLY_TOKEN: READ_TOKEN, KV_BROWSER: "1" },
    });
    kv = client(server.url);
    const pairs: Record<string, unknown> = {};
    for (let i = 0; i < 60; i++) pairs[`item:${String(i).padStart(2, "0")}`] = { n: i };
    resultOf(await kv.post("mset", { pairs }));
    resultOf(
      await kv.post("set", { key: "doc:1", value: { title: "hello", tags: ["a", "b"] }, ttlMs: 600_000 }),
    );
    resultOf(await kv.post("hset", { key: "user:1", fields: { name: "Ann", age: 30, city: "Oslo" } }));
    resultOf(await kv.post("set", { key: "trash:1", value: "bye" }));
    resultOf(await kv.post("set", { key: XSS_KEY, value: "<script>alert(2)</script>" }));

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10_000);
    page.on("dialog", (dialog: Dialog) => {
      dialogs.push({ type: dialog.type(), message: dialog.message() });
      void (dialog.type() === "confirm" && answer === "accept" ? dialog.accept() : dialog.dismiss());
    });
    page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
    page.on("console", (message) => {
      // The API's 401, 403 and 404 answers are logged by the browser as failed loads: expected.
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
        errors.push(`console: ${message.text()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    db.remove();
  });

  /** Searches a pattern with a page size and answers the keys listed. */
  async function search(pattern: string, limit = "25"): Promise<string[]> {
    await page.fill("#pattern", pattern);
    await page.selectOption("#limit", limit);
    await page.click("#search-form button[type=submit]");
    return listed();
  }

  /** The keys listed, once the page's listing call has answered. */
  async function listed(): Promise<string[]> {
    await page.waitForSelector('#keys[aria-busy="false"]', { state: "attached" });
    return page.locator("#keys .key").allTextContents();
  }
  const status = () => page.textContent("#status");

  async function open(pattern: string, key: string): Promise<void> {
    await search(pattern);
    await page.locator("#keys .key", { hasText: key }).first().click();
    await page.waitForSelector('#detail[aria-busy="false"]');
    expect(await page.textContent("#detail-key")).toBe(key);
  }

  it("refuses a wrong token, then the read-only token", async () => {
    await page.goto(`${server.url}/browser`);
    expect(new URL(page.url()).pathname).toBe("/browser/");
    await page.fill("#token", "not-the-token");
    await page.click("#login-form button[type=submit]");
    await expect.poll(() => page.textContent("#login-error")).toContain("Wrong token");
    expect(await page.isVisible("#main")).toBe(false);

    await page.fill("#token", READ_TOKEN);
    await page.click("#login-form button[type=submit]");
    await expect.poll(() => page.textContent("#login-error")).toContain("read-only token");
    expect(await page.isVisible("#main")).toBe(false);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("signs in with the full token, kept in the tab's session storage, never in the URL", async () => {
    await page.fill("#token", FULL_TOKEN);
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector("#main", { state: "visible" });
    expect(await page.isVisible("#login")).toBe(false);
    expect(page.url()).not.toContain(FULL_TOKEN);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([FULL_TOKEN]);
    // The probe that proved write access deleted nothing and left nothing behind.
    expect(resultOf(await kv.get("keys", { pattern: "__tierkv_browser_probe__*" }))).toEqual({
      keys: [],
      cursor: null,
    });
  });

  it("searches a pattern and pages through more keys than one page holds", async () => {
    const seen: string[] = [];
    seen.push(...(await search("item:*", "25")));
    expect(seen).toHaveLength(25);
    expect(await page.textContent("#page-info")).toBe("Page 1 · 25 keys");
    expect(await page.isDisabled("#prev")).toBe(true);

    await page.click("#next");
    await expect.poll(() => page.textContent("#page-info")).toBe("Page 2 · 25 keys");
    seen.push(...(await listed()));
    await page.click("#next");
    await expect.poll(() => page.textContent("#page-info")).toBe("Page 3 · 10 keys · last page");
    seen.push(...(await listed()));
    expect(await page.isDisabled("#next")).toBe(true);
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => `item:${String(i).padStart(2, "0")}`));

    await page.click("#prev");
    await expect.poll(() => page.textContent("#page-info")).toBe("Page 2 · 25 keys");
    expect(await listed()).toEqual(seen.slice(25, 50));

    expect(await search("nothing:*")).toEqual([]);
    expect(await status()).toBe("No key matches.");
  });

  it("shows a string's value as pretty JSON and saves an edit, keeping the TTL", async () => {
    await open("doc:*", "doc:1");
    expect(await page.textContent("#detail-type")).toBe("string");
    expect(await page.inputValue("#value-edit")).toBe(
      JSON.stringify({ title: "hello", tags: ["a", "b"] }, null, 2),
    );
    expect(await page.textContent("#detail-ttl")).toMatch(/min \([\d,]+ ms\)$/);

    // Text that is not JSON is refused in JSON mode, and saved as a JSON string in text mode.
    await page.fill("#value-edit", "not json");
    await page.click("#save-value");
    await expect.poll(status).toContain("Not valid JSON");
    expect(resultOf(await kv.get("get", { key: "doc:1" }))).toEqual({ title: "hello", tags: ["a", "b"] });
    await page.check('input[name="value-mode"][value="text"]');
    await page.click("#save-value");
    await expect.poll(status).toContain("Saved");
    expect(resultOf(await kv.get("get", { key: "doc:1" }))).toBe("not json");

    await page.check('input[name="value-mode"][value="json"]');
    await page.fill("#value-edit", '{"title": "changed", "n": [1, 2]}');
    await page.click("#save-value");
    await expect.poll(status).toBe('Saved "doc:1" (TTL kept).');
    expect(resultOf(await kv.get("get", { key: "doc:1" }))).toEqual({ title: "changed", n: [1, 2] });
    const ttl = resultOf(await kv.get("ttl", { key: "doc:1" })) as number;
    expect(ttl).toBeGreaterThan(500_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
  });

  it("lists a hash's fields, edits one and deletes one after confirmation", async () => {
    await open("user:*", "user:1");
    expect(await page.textContent("#detail-type")).toBe("hash");
    expect(await page.locator("#fields td.field").allTextContents()).toEqual(["age", "city", "name"]);

    const row = (field: string) =>
      page.locator("#fields tr", { has: page.locator(`td.field:text-is("${field}")`) });
    await row("age").getByRole("button", { name: "Edit" }).click();
    expect(await page.inputValue("#field-name")).toBe("age");
    expect(await page.inputValue("#field-value")).toBe("30");
    await page.fill("#field-value", "31");
    await page.click("#field-form button[type=submit]");
    await expect.poll(status).toBe('Saved field "age".');
    expect(resultOf(await kv.get("hget", { key: "user:1", field: "age" }))).toBe(31);
    expect(await row("age").locator("pre").textContent()).toBe("31");

    const before = dialogs.length;
    answer = "dismiss";
    await row("city").getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => dialogs.length).toBe(before + 1);
    expect(resultOf(await kv.get("hgetall", { key: "user:1" }))).toHaveProperty("city", "Oslo");
    answer = "accept";
    await row("city").getByRole("button", { name: "Delete" }).click();
    await expect.poll(status).toBe('Deleted field "city".');
    expect(dialogs.at(-1)).toEqual({ type: "confirm", message: 'Delete field "city" of "user:1"?' });
    expect(resultOf(await kv.get("hgetall", { key: "user:1" }))).toEqual({ name: "Ann", age: 31 });
    expect(await page.locator("#fields td.field").allTextContents()).toEqual(["age", "name"]);
  });

  it("changes a TTL", async () => {
    expect(await page.textContent("#detail-ttl")).toBe("no expiry");
    await page.fill("#ttl-input", "120000");
    await page.click("#ttl-form button[type=submit]");
    await expect.poll(status).toBe('TTL of "user:1" set.');
    await expect.poll(() => page.textContent("#detail-ttl")).toMatch(/^2\.0 min \(1[12][\d,]+ ms\)$/);
    const ttl = resultOf(await kv.get("ttl", { key: "user:1" })) as number;
    expect(ttl).toBeGreaterThan(100_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it("deletes a key only after confirmation", async () => {
    await open("trash:*", "trash:1");
    const before = dialogs.length;
    answer = "dismiss";
    await page.click("#delete-key");
    await expect.poll(() => dialogs.length).toBe(before + 1);
    expect(resultOf(await kv.get("exists", { key: "trash:1" }))).toBe(true);

    answer = "accept";
    await page.click("#delete-key");
    await expect.poll(status).toBe('Deleted "trash:1".');
    expect(dialogs.at(-1)?.message).toBe('Delete the key "trash:1"? This cannot be undone.');
    expect(resultOf(await kv.get("exists", { key: "trash:1" }))).toBe(false);
    expect((await kv.get("get", { key: "trash:1" })).status).toBe(404);
    expect(await page.isVisible("#detail")).toBe(false);
    expect(await listed()).toEqual([]);
  });

  it("renders a key that looks like markup as text", async () => {
    expect(await search("<*")).toEqual([XSS_KEY]);
    await open("<*", XSS_KEY);
    expect(await page.inputValue("#value-edit")).toBe('"<script>alert(2)</script>"');
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("body script").count()).toBe(0);
    expect(dialogs.filter((d) => d.type === "alert")).toEqual([]);
  });

  it("shows live numbers: requests/s, L1 hit ratio, database latency", async () => {
    await expect.poll(() => page.textContent("#live-rps"), { timeout: 10_000 }).toMatch(/^\d+\.\d$/);
    expect(await page.textContent("#live-hit")).toMatch(/^\d+\.\d %$/);
    expect(await page.textContent("#live-db")).toMatch(/^\d+\.\d\d ms$/);
    expect(await page.textContent("#live-entries")).toMatch(/^\d+$/);
  });

  it("saves a screenshot, and the page raised no error", async () => {
    rmSync(SCREENSHOT, { force: true });
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it("stays signed in on reload and signs out", async () => {
    await page.reload();
    await page.waitForSelector("#main", { state: "visible" });
    await page.click("#logout");
    await page.waitForSelector("#login", { state: "visible" });
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});
