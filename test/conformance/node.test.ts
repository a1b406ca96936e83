import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/adapters/node-server.ts";
import { loadConfig } from "../../src/core/config.ts";
import { tempSqlite } from "../helpers/databases.ts";
import { ApiDocument, type Exchange, type Json, recordingFetch } from "../helpers/openapi.ts";
import { conformance } from "./suite.ts";
import { TARGET_TOKENS } from "./targets.ts";

describe("conformance: Node server on SQLite", () => {
  const db = tempSqlite();
  let server: RunningServer | undefined;
  // Every request of the native API the suite sends, for the API document's check below.
  const exchanges: Exchange[] = [];

  beforeAll(async () => {
    server = await startServer(
      loadConfig({
        DATABASE_URL: db.url,
        PORT: "0",
        HOST: "127.0.0.1",
        KV_TOKEN: TARGET_TOKENS.token,
        KV_READONLY_TOKEN: TARGET_TOKENS.readonlyToken,
      }),
    );
  });

  afterAll(async () => {
    await server?.close();
    db.remove();
  });

  conformance(
    () => {
      if (server === undefined) throw new Error("the Node server did not start");
      return server.url;
    },
    { ...TARGET_TOKENS, db: "sqlite", l1: "shared", fetch: recordingFetch(exchanges) },
  );

  // Runs after the suite (vitest runs a file's tests in order).
  describe("the API document (GET /api/kv/openapi.json) against every request of the suite", () => {
    it("accepts each request the server accepted and refuses each input the server refused", async () => {
      const res = await fetch(`${server?.url}/api/kv/openapi.json`);
      const doc = new ApiDocument((await res.json()) as Json);
      const counts: Record<string, number> = {};
      const excluded = new Set<string>();
      const problems: string[] = [];
      for (const ex of exchanges) {
        const verdict = doc.check(ex);
        counts[verdict.kind] = (counts[verdict.kind] ?? 0) + 1;
        if (verdict.kind === "excluded") excluded.add(verdict.reason ?? "");
        const request = `${ex.method} ${ex.url.slice(0, 200)} ${(ex.body ?? "").slice(0, 200)}`;
        for (const problem of verdict.problems) problems.push(`${request} → ${ex.status}: ${problem}`);
      }
      expect(problems).toEqual([]);
      // The suite exercises both sides, and only what JSON Schema cannot say is left out.
      expect(counts.valid).toBeGreaterThan(300);
      expect(counts.invalid).toBeGreaterThanOrEqual(25);
      expect([...excluded].sort()).toEqual([
        "the UTF-8 byte length of a key",
        "the size of a value's JSON encoding",
        "the size of the body",
      ]);
    });
  });
});
