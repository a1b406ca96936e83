import { createConnection } from "node:net";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/client/index.ts";
import { mergeSyncTokens, parseSyncToken } from "../../src/core/sync-token.ts";
import { dropPgSchema, freshPgUrl, PG_URL, tempSqlite } from "../helpers/databases.ts";
import { call } from "../helpers/harness.ts";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.ts";

const TOKEN = "e2e-token";
const L1_TTL_MS = 1_500;

/** Two real server processes on one database: what many instances of one deployment do. */
function twoInstances(label: string, database: () => { url: string; cleanup: () => Promise<void> | void }) {
  describe(`two server processes on one ${label} database`, () => {
    let a: ServerProcess;
    let b: ServerProcess;
    let db: { url: string; cleanup: () => Promise<void> | void };

    beforeAll(async () => {
      db = database();
      const env = { DATABASE_URL: db.url, KV_TOKEN: TOKEN, KV_L1_TTL_MS: String(L1_TTL_MS) };
      // Both start at once: the migration must be applied exactly once.
      [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    });
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await db?.cleanup();
    });

    it("keep 400 concurrent increments split between them exact", async () => {
      const results = await Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          call(i % 2 ? a.url : b.url, "POST", "incr", { token: TOKEN, body: { key: "hits" } }),
        ),
      );
      expect(results.every((r) => r.status === 200)).toBe(true);
      const values = results.map((r) => r.body?.result as number).sort((x, y) => x - y);
      expect(values).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
      expect(
        (await call(b.url, "GET", "get?key=hits", { token: TOKEN, headers: { "Cache-Control": "no-cache" } }))
          .body?.result,
      ).toBe(400);
    });

    it("grant a lock to exactly one of 40 concurrent attempts", async () => {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          call(i % 2 ? a.url : b.url, "POST", "lock", { token: TOKEN, body: { key: "job", ttlMs: 60_000 } }),
        ),
      );
      const winners = results.filter(
        (r) => (r.body?.result as { acquired: boolean } | undefined)?.acquired === true,
      );
      expect(winners).toHaveLength(1);
      const token = (winners[0]?.body?.result as { token: string } | undefined)?.token ?? "";
      const other = winners[0] === results[0] ? b : a;
      expect(
        (
          await call(other.url, "POST", "unlock", {
            token: TOKEN,
            body: { key: "job", token: "not-the-token" },
          })
        ).body?.result,
      ).toBe(false);
      expect(
        (await call(other.url, "POST", "unlock", { token: TOKEN, body: { key: "job", token } })).body?.result,
      ).toBe(true);
    });

    it("show a write to the other instance within the L1 TTL, and at once with no-cache", async () => {
      await call(a.url, "POST", "set", { token: TOKEN, body: { key: "profile", value: "v1" } });
      expect((await call(b.url, "GET", "get?key=profile", { token: TOKEN })).body?.result).toBe("v1");
      const cached = await call(b.url, "GET", "get?key=profile", { token: TOKEN });
      expect(cached.headers.get("x-kv-cache")).toBe("HIT");

      await call(a.url, "POST", "set", { token: TOKEN, body: { key: "profile", value: "v2" } });
      const own = await call(a.url, "GET", "get?key=profile", { token: TOKEN });
      expect(own.body?.result).toBe("v2");
      const fresh = await call(b.url, "GET", "get?key=profile", {
        token: TOKEN,
        headers: {
          "Cache-Control": "no-cache",
        },
      });
      expect(fresh.body?.result).toBe("v2");
      expect(fresh.headers.get("x-kv-cache")).toBe("MISS");

      await call(a.url, "POST", "set", { token: TOKEN, body: { key: "profile", value: "v3" } });
      await new Promise((resolve) => setTimeout(resolve, L1_TTL_MS + 100));
      expect((await call(b.url, "GET", "get?key=profile", { token: TOKEN })).body?.result).toBe("v3");
    });

    it("show a client its own write through the other instance at once, given its sync token", async () => {
      const writer = createClient({ url: a.url, token: TOKEN });
      await writer.set("ryw", "before");
      // B's L1 holds the value from before the write; without a token B may answer with it.
      await call(b.url, "GET", "get?key=ryw", { token: TOKEN });
      expect((await call(b.url, "GET", "get?key=ryw", { token: TOKEN })).headers.get("x-kv-cache")).toBe(
        "HIT",
      );

      await writer.set("ryw", "after");
      const synced = writer.syncToken;
      expect(synced).toMatch(/^\d+-\d+-[0-9a-z]+$/);
      const stale = await call(b.url, "GET", "get?key=ryw", { token: TOKEN });
      expect(stale.body?.result).toBe("before");

      const reader = createClient({ url: b.url, token: TOKEN });
      reader.syncToken = synced;
      expect(await reader.get("ryw")).toBe("after");
      const raw = await call(b.url, "GET", "get?key=ryw", {
        token: TOKEN,
        headers: { "X-KV-Sync-Token": synced ?? "" },
      });
      expect(raw.body?.result).toBe("after");
      // B answers with a token that stands for A's write as well as its own.
      const answered = parseSyncToken(raw.headers.get("x-kv-sync-token"));
      const sent = parseSyncToken(synced);
      expect(answered).toBeDefined();
      expect(mergeSyncTokens(answered, sent)).toEqual({ ms: answered?.ms, seq: answered?.seq });
      // A token of A's alone lets A's own L1 answer: it holds A's writes.
      const own = await call(a.url, "GET", "get?key=ryw", {
        token: TOKEN,
        headers: { "X-KV-Sync-Token": synced ?? "" },
      });
      expect(own.body?.result).toBe("after");
      expect(own.headers.get("x-kv-cache")).toBe("HIT");
    });

    it("show @upstash/redis its own write through the other instance, given its sync token", async () => {
      const viaA = new Redis({ url: `${a.url}/api/redis`, token: TOKEN });
      const viaB = new Redis({ url: `${b.url}/api/redis`, token: TOKEN });
      const get = async (url: string, headers: Record<string, string> = {}) => {
        const response = await fetch(`${url}/api/redis`, {
          method: "POST",
          headers: { Authorization: `Bearer ${TOKEN}`, ...headers },
          body: JSON.stringify(["GET", "ryw:redis"]),
        });
        return { result: ((await response.json()) as { result: unknown }).result, response };
      };
      await viaA.set("ryw:redis", "before");
      await get(b.url);
      expect((await get(b.url)).response.headers.get("x-kv-cache")).toBe("HIT");

      await viaA.set("ryw:redis", "after");
      expect((await get(b.url)).result).toBe("before");
      viaB.readYourWritesSyncToken = viaA.readYourWritesSyncToken;
      expect(await viaB.get("ryw:redis")).toBe("after");
      expect((await get(b.url, { "upstash-sync-token": viaA.readYourWritesSyncToken ?? "" })).result).toBe(
        "after",
      );
      // A malformed token is ignored, not an error.
      const odd = await get(b.url, { "upstash-sync-token": "not a token" });
      expect(odd.response.status).toBe(200);
      expect(odd.response.headers.get("upstash-sync-token")).toMatch(/^\d+-\d+/);
    });

    it("never interleave transactions over the same keys, sent to both at once", async () => {
      const replies = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const response = await fetch(`${i % 2 ? a.url : b.url}/api/redis/multi-exec`, {
            method: "POST",
            headers: { Authorization: `Bearer ${TOKEN}` },
            body: JSON.stringify([
              ["INCR", "tx:first"],
              ["SET", "tx:last", String(i)],
              ["INCR", "tx:second"],
            ]),
          });
          expect(response.status).toBe(200);
          return (await response.json()) as { result: unknown }[];
        }),
      );
      // Isolated: each transaction saw both counters at the same count, and each count once.
      for (const reply of replies) expect(reply[0]?.result).toBe(reply[2]?.result);
      const counts = replies.map((reply) => reply[0]?.result as number).sort((x, y) => x - y);
      expect(counts).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    });
  });
}

twoInstances("SQLite", () => {
  const db = tempSqlite();
  return { url: db.url, cleanup: db.remove };
});

describe.skipIf(PG_URL === null)("PostgreSQL", () => {
  twoInstances("PostgreSQL", () => {
    const url = freshPgUrl("e2e");
    return { url, cleanup: () => dropPgSchema(url) };
  });
});

describe("the Node server process", () => {
  it("keeps every acknowledged write through kill -9 (SQLite)", async () => {
    const db = tempSqlite();
    try {
      const env = { DATABASE_URL: db.url, KV_TOKEN: TOKEN };
      const first = await startServerProcess(env);
      const pairs = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`durable:${i}`, i]));
      await Promise.all(
        Object.entries(pairs).map(([key, value]) =>
          call(first.url, "POST", "set", { token: TOKEN, body: { key, value } }),
        ),
      );
      await call(first.url, "POST", "hincrby", {
        token: TOKEN,
        body: { key: "durable:h", field: "n", by: 7 },
      });
      await first.stop("SIGKILL");
      const second = await startServerProcess(env);
      try {
        const got = await call(second.url, "POST", "mget", {
          token: TOKEN,
          body: { keys: Object.keys(pairs) },
        });
        expect(got.body?.result).toEqual(pairs);
        expect(
          (await call(second.url, "GET", "hget?key=durable:h&field=n", { token: TOKEN })).body?.result,
        ).toBe(7);
      } finally {
        await second.stop();
      }
    } finally {
      db.remove();
    }
  });

  it("finishes an in-flight request on SIGTERM, then exits cleanly", async () => {
    const db = tempSqlite();
    try {
      const server = await startServerProcess({ DATABASE_URL: db.url, KV_TOKEN: TOKEN });
      // A request whose body is still arriving when the signal comes is in flight for sure.
      let body!: ReadableStreamDefaultController<Uint8Array>;
      const stream = new ReadableStream<Uint8Array>({
        start: (c) => {
          body = c;
        },
      });
      const pending = fetch(`${server.url}/api/kv/set`, {
        method: "POST",
        headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit);
      body.enqueue(new TextEncoder().encode('{"key": "last", '));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const exited = server.stop("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 200));
      body.enqueue(new TextEncoder().encode('"value": 1}'));
      body.close();
      const response = await pending;
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ result: true });
      expect(await exited).toBe(0);
      expect(server.output()).toContain("SIGTERM");
    } finally {
      db.remove();
    }
  });

  it("answers requests Node's parser refuses with the envelope", async () => {
    const db = tempSqlite();
    const server = await startServerProcess({ DATABASE_URL: db.url, KV_TOKEN: TOKEN });
    try {
      const res = await fetch(`${server.url}/api/kv/get?key=${"k".repeat(20_000)}`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status).toBe(400);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
    } finally {
      await server.stop();
      db.remove();
    }
  });

  it("answers request targets no URL can hold with the envelope, and logs a client that went away as such", async () => {
    const db = tempSqlite();
    const server = await startServerProcess({ DATABASE_URL: db.url, KV_TOKEN: TOKEN });
    const { hostname, port } = new URL(server.url);
    /** Sends raw bytes, and resolves with what came back once the server closed or went quiet. */
    const raw = (bytes: string, hangUp = false) =>
      new Promise<string>((resolve) => {
        const socket = createConnection(Number(port), hostname, () => {
          socket.write(bytes);
          if (hangUp) setTimeout(() => socket.destroy(), 100);
        });
        let out = "";
        socket.on("data", (chunk) => {
          out += chunk.toString();
          if (/\r\n\r\n[\s\S]*}$/.test(out)) socket.end();
        });
        socket.on("close", () => resolve(out));
        socket.on("error", () => resolve(out));
      });
    try {
      for (const line of ["OPTIONS * HTTP/1.1", "GET /api\\kv/get?key=a HTTP/1.1"]) {
        const answer = await raw(`${line}\r\nHost: ${hostname}\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
        expect(answer).toMatch(/^HTTP\/1\.1 400 /);
        expect(answer.toLowerCase()).toContain("cache-control: no-store");
        expect(answer).toContain('{"error":{"code":"BAD_REQUEST","message":"malformed request target"}}');
      }
      // A client that sends half a body and hangs up.
      await raw(
        `POST /api/kv/set HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"key":"a",`,
        true,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(server.output()).not.toContain("internal error");
      expect(server.output()).toContain("the client closed the connection");
      const metrics = await (
        await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })
      ).text();
      expect(metrics).toMatch(/^tierkv_client_aborts_total 1$/m);
    } finally {
      await server.stop();
      db.remove();
    }
  });

  it("refuses to listen beyond loopback without a token", async () => {
    const db = tempSqlite();
    try {
      await expect(
        startServerProcess({ DATABASE_URL: db.url, HOST: "0.0.0.0", KV_TOKEN: "" }),
      ).rejects.toThrow(/exited with 1[\s\S]*KV_TOKEN/);
    } finally {
      db.remove();
    }
  });

  it("answers 503 UNAVAILABLE, not a hang, when PostgreSQL cannot be reached", async () => {
    const server = await startServerProcess({
      DATABASE_URL: "postgresql://tierkv:s3cret-password@127.0.0.1:1/none",
      KV_TOKEN: TOKEN,
    });
    try {
      const res = await call(server.url, "GET", "get?key=x", { token: TOKEN });
      expect(res.status).toBe(503);
      expect(res.body?.error?.code).toBe("UNAVAILABLE");
      expect(JSON.stringify(res.body)).not.toContain("s3cret");
      const health = await fetch(`${server.url}/api/kv/health`);
      expect(health.status).toBe(503);
      expect(server.output()).not.toContain("s3cret");
    } finally {
      await server.stop();
    }
  });
});
