import { describe, expect, it } from "vitest";
import { PG_URL } from "../helpers/databases.ts";
import { call, createHarness, expectError } from "../helpers/harness.ts";

/** Databases that answer but cannot be used: as unreachable for the client as a refused port. */
const MISCONFIGURED: [string, string][] = [
  ["a SQLite file whose folder cannot be created", "file:/proc/tierkv-nope/kv.db"],
  ["a SQLite path under a file", "file:/dev/null/kv.db"],
];
if (PG_URL !== null) {
  const unknownRole = new URL(PG_URL);
  unknownRole.username = "no_such_role";
  unknownRole.password = "pw-not-shown";
  const unknownDb = new URL(PG_URL);
  unknownDb.pathname = "/no_such_database";
  MISCONFIGURED.push(["a PostgreSQL role that does not exist", unknownRole.toString()]);
  MISCONFIGURED.push(["a PostgreSQL database that does not exist", unknownDb.toString()]);
  const tls = new URL(PG_URL);
  tls.searchParams.set("sslmode", "require");
  MISCONFIGURED.push(["TLS required by a PostgreSQL server without it", tls.toString()]);
}

describe.each(MISCONFIGURED)("503 UNAVAILABLE with %s", (_, url) => {
  it("on /health and on data endpoints, without details", async () => {
    const h = createHarness(url);
    try {
      for (const reply of [
        await call(h.app, "GET", "health", { token: null }),
        await call(h.app, "GET", "get", { query: { key: "k" } }),
        await call(h.app, "POST", "set", { body: { key: "k", value: 1 } }),
      ]) {
        expectError(reply, 503, "UNAVAILABLE");
        expect(reply.text).not.toMatch(/pw-not-shown|no_such|tierkv-nope|dev\/null/);
      }
    } finally {
      await h.close();
    }
  });
});
