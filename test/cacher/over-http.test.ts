import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import { createCacher } from "../../src/cacher/index.ts";
import { createHttpStore } from "../../src/stores/http.ts";
import { type TempSqlite, tempSqlite } from "../helpers/databases.ts";
import { FULL_TOKEN, startKvServer, uniqueId } from "../helpers/harness.ts";

// The cacher over a tierkv server: what a fleet of serverless functions would share.

let server: RunningServer;
let db: TempSqlite;
beforeAll(async () => {
  db = tempSqlite();
  server = await startKvServer({ env: { DATABASE_URL: db.url } });
});
afterAll(async () => {
  await server?.close();
  db?.remove();
});

describe("cacher over the HTTP store", () => {
  it("two distributed cachers (two clients) call a slow fallback once between them", async () => {
    const keyPrefix = `cache:${uniqueId()}:`;
    let refused = 0;
    // Counts the lock attempts the server refused: proof that the other instance is waiting.
    const watching: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).endsWith("/lock") && (await response.clone().json()).result?.acquired === false)
        refused++;
      return response;
    };
    const open = () =>
      createCacher(
        createHttpStore({ url: server.url, token: FULL_TOKEN, keyPrefix, noCache: true, fetch: watching }),
        { distributed: { pollMs: 5, maxPollMs: 20 } },
      );
    const [a, b] = [open(), open()];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const fallback = vi.fn(async (key: string) => {
      await gate;
      return { key };
    });
    const reads = [a, b].flatMap((c) => Array.from({ length: 10 }, () => c.get("report", fallback)));
    // Hold the first load open until the other instance has found the key locked.
    await vi.waitFor(() => expect(refused).toBeGreaterThan(0), { timeout: 10_000 });
    release();
    expect(new Set((await Promise.all(reads)).map((v) => JSON.stringify(v)))).toEqual(
      new Set([JSON.stringify({ key: "report" })]),
    );
    expect(fallback).toHaveBeenCalledTimes(1);
  });

  it("mget sends the batch fallback only the keys missing on the server", async () => {
    const keyPrefix = `cache:${uniqueId()}:`;
    const cacher = createCacher(createHttpStore({ url: server.url, token: FULL_TOKEN, keyPrefix }));
    await cacher.get("a", async () => 1);
    const batch = vi.fn(async (keys: string[]) => Object.fromEntries(keys.map((k) => [k, k])));
    const values = await cacher.mget(["a", "b", "c"], batch);
    expect(batch).toHaveBeenCalledExactlyOnceWith(["b", "c"]);
    expect(values).toEqual(
      new Map<string, unknown>([
        ["a", 1],
        ["b", "b"],
        ["c", "c"],
      ]),
    );
  });
});
