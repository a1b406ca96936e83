import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import { dropPgSchema, freshPgUrl, PG_URL } from "../helpers/databases.ts";
import { FULL_TOKEN, startKvServer, uniqueId } from "../helpers/harness.ts";
import { FaultProxy } from "../helpers/tcp-proxy.ts";

// A PostgreSQL that stops answering without refusing connections (a network partition, a frozen
// host): a TCP proxy in front of it stops passing bytes, as `kill -STOP` of a proxy would.
// Every request must answer within KV_DB_TIMEOUT_MS (plus a margin), and the instance must
// recover once the database answers again, without a restart.

const TIMEOUT_MS = 1_000;
/** What a request may take beyond the bound: the HTTP round trip and a pool's bookkeeping. */
const MARGIN_MS = 1_500;

describe.skipIf(PG_URL === null)("a PostgreSQL that goes silent", () => {
  const direct = PG_URL === null ? "" : freshPgUrl("silent");
  let proxy: FaultProxy;
  let server: RunningServer;

  beforeAll(async () => {
    const url = new URL(direct);
    proxy = new FaultProxy({ host: url.hostname, port: Number(url.port || 5432) });
    await proxy.listen();
    server = await startKvServer({
      env: { DATABASE_URL: proxy.url(direct), KV_DB_TIMEOUT_MS: String(TIMEOUT_MS), KV_L1_TTL_MS: "0" },
    });
  });
  afterAll(async () => {
    await server?.close().catch(() => {});
    await proxy?.close();
    await dropPgSchema(direct);
  });

  const auth = { Authorization: `Bearer ${FULL_TOKEN}`, "Content-Type": "application/json" };
  const requests = (key: string) => [
    () =>
      fetch(`${server.url}/api/kv/set`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ key, value: 1 }),
      }),
    () =>
      fetch(`${server.url}/api/kv/incr`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ key: `${key}:n` }),
      }),
    () => fetch(`${server.url}/api/kv/get?key=${key}`, { headers: auth }),
    () =>
      fetch(`${server.url}/api/kv/hset`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ key: `${key}:h`, fields: { a: 1 } }),
      }),
    () =>
      fetch(`${server.url}/api/redis`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify(["GETSET", key, "2"]),
      }),
  ];

  it("answers every request 503 within the bound, then recovers without a restart", async () => {
    const key = `silent:${uniqueId()}`;
    // Warm: the schema exists and the pool holds open connections.
    for (const send of requests(key)) expect((await send()).status).toBe(200);

    proxy.silence();
    try {
      const started = Date.now();
      const replies = await Promise.all(
        [...requests(key), ...requests(`${key}:2`)].map(async (send) => {
          const reply = await send();
          return { status: reply.status, body: await reply.text(), ms: Date.now() - started };
        }),
      );
      for (const reply of replies) {
        expect(reply.status).toBe(503);
        expect(reply.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
      }
      const native = replies.find((r) => r.body.startsWith('{"error":{'));
      expect(JSON.parse(native?.body ?? "{}")).toEqual({
        error: {
          code: "UNAVAILABLE",
          message:
            "the database did not answer in time (KV_DB_TIMEOUT_MS); a write may or may not have been applied",
        },
      });
      // A request that needs a new connection is bounded too.
      const again = Date.now();
      expect((await requests(key)[2]?.())?.status).toBe(503);
      expect(Date.now() - again).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    } finally {
      proxy.wake();
    }

    // Recovery: connections that timed out were discarded; new ones work.
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await requests(key)[0]?.())?.status ?? 0;
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(200);
    for (const send of requests(key)) expect((await send()).status).toBe(200);
  }, 30_000);
});
