import { describe, expect, it } from "vitest";
import { dropPgSchema, freshPgUrl, PG_URL, tempSqlite } from "../helpers/databases.ts";
import { uniqueId } from "../helpers/harness.ts";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.ts";
import { FaultProxy } from "../helpers/tcp-proxy.ts";

// Faults under a mixed write load, with real server processes and real databases on loopback:
// a process killed with SIGKILL, PostgreSQL stopped and started, two processes writing one
// SQLite file. What must hold: every acknowledged write is there afterwards, no batch is half
// applied, a counter lies between what was acknowledged and what was sent, and no request
// hangs or gets anything but its answer or 503.

const TOKEN = "faults-token";
const HEADERS = { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" };

/** What a load sent, and which of it the servers acknowledged. */
class Ledger {
  readonly prefix = `f${uniqueId()}`;
  /** Keys set and acknowledged, with their values. */
  readonly sets = new Map<string, number>();
  /** Every `mset` batch sent, and whether it was acknowledged. */
  readonly batches: { keys: string[]; acked: boolean }[] = [];
  /** Hash fields set and acknowledged. */
  readonly fields = new Map<string, number>();
  incrSent = 0;
  incrAcked = 0;
  /** Answers by status (0: no answer, the connection failed). */
  readonly statuses = new Map<number, number>();
  /** Answers other than 200, with when they came and how long they took. */
  readonly failures: { status: number; at: number; ms: number; body: string }[] = [];

  /** One line of figures, for the run's output (RELIABILITY.md quotes them). */
  summary(label: string): string {
    const slowest = Math.max(0, ...this.failures.filter((f) => f.status !== 0).map((f) => f.ms));
    const statuses = [...this.statuses].map(([status, n]) => `${status === 0 ? "no answer" : status}: ${n}`);
    return `${label}: ${statuses.join(", ")}; acknowledged ${this.sets.size} sets, ${this.batches.filter((b) => b.acked).length}/${this.batches.length} msets, ${this.incrAcked}/${this.incrSent} incrs, ${this.fields.size} hset fields; slowest error answer ${slowest} ms`;
  }

  get counter(): string {
    return `${this.prefix}:counter`;
  }

  get hash(): string {
    return `${this.prefix}:hash`;
  }
}

/** Sends one request; resolves with its status (0 when no answer came) and body. */
async function send(ledger: Ledger, url: string, path: string, body: unknown): Promise<number> {
  const started = Date.now();
  let status = 0;
  let text = "";
  try {
    const res = await fetch(`${url}/api/kv/${path}`, {
      method: "POST",
      headers: HEADERS,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    status = res.status;
    text = await res.text();
  } catch {
    status = 0;
  }
  ledger.statuses.set(status, (ledger.statuses.get(status) ?? 0) + 1);
  if (status !== 200) ledger.failures.push({ status, at: started, ms: Date.now() - started, body: text });
  return status;
}

/**
 * Runs `workers` loops of mixed writes (set, mset of four keys, incr of one hot counter, hset)
 * against the servers at `urls` in turn, until `stop()` says so.
 */
async function mixedLoad(
  ledger: Ledger,
  urls: () => string[],
  stop: () => boolean,
  workers = 8,
): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; !stop(); i++) {
        const list = urls();
        const url = list[(w + i) % list.length] as string;
        const id = `${ledger.prefix}:${w}:${i}`;
        switch (i % 4) {
          case 0:
            if ((await send(ledger, url, "set", { key: `${id}:s`, value: i })) === 200) {
              ledger.sets.set(`${id}:s`, i);
            }
            break;
          case 1: {
            const keys = [0, 1, 2, 3].map((j) => `${id}:m${j}`);
            const batch = { keys, acked: false };
            ledger.batches.push(batch);
            const pairs = Object.fromEntries(keys.map((key, j) => [key, j]));
            batch.acked = (await send(ledger, url, "mset", { pairs })) === 200;
            break;
          }
          case 2:
            ledger.incrSent++;
            if ((await send(ledger, url, "incr", { key: ledger.counter })) === 200) ledger.incrAcked++;
            break;
          default:
            if ((await send(ledger, url, "hset", { key: ledger.hash, field: id, value: i })) === 200) {
              ledger.fields.set(id, i);
            }
        }
        // A refused connection answers at once: do not spin while the database is down.
        if ((ledger.failures.at(-1)?.at ?? 0) > Date.now() - 50) await sleep(20);
      }
    }),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function read(url: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${url}/api/kv/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { ...HEADERS, "Cache-Control": "no-cache" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return (JSON.parse(text) as { result: unknown }).result;
}

/** Checks, through the server at `url`, that the database holds what the ledger says it must. */
async function verify(ledger: Ledger, url: string, exactCounter = false): Promise<void> {
  const sets = [...ledger.sets.keys()];
  for (let i = 0; i < sets.length; i += 1000) {
    const chunk = sets.slice(i, i + 1000);
    const found = (await read(url, "mget", { keys: chunk })) as Record<string, number>;
    for (const key of chunk) expect(found[key], key).toBe(ledger.sets.get(key));
  }
  for (let i = 0; i < ledger.batches.length; i += 250) {
    const batches = ledger.batches.slice(i, i + 250);
    const found = (await read(url, "mget", { keys: batches.flatMap((b) => b.keys) })) as Record<
      string,
      number
    >;
    for (const batch of batches) {
      const present = batch.keys.filter((key) => key in found).length;
      // All or nothing; all when it was acknowledged.
      expect([0, 4], batch.keys[0]).toContain(present);
      if (batch.acked) expect(present, batch.keys[0]).toBe(4);
    }
  }
  const counter = (await read(url, `get?key=${encodeURIComponent(ledger.counter)}`)) as number;
  if (exactCounter) {
    expect(counter).toBe(ledger.incrAcked);
  } else {
    expect(counter).toBeGreaterThanOrEqual(ledger.incrAcked);
    expect(counter).toBeLessThanOrEqual(ledger.incrSent);
  }
  const fields = (await read(url, `hgetall?key=${encodeURIComponent(ledger.hash)}`)) as Record<
    string,
    number
  >;
  for (const [field, value] of ledger.fields) expect(fields[field], field).toBe(value);
}

function onDatabases(
  run: (database: () => { url: string; cleanup: () => Promise<void> | void }) => void,
): void {
  describe("SQLite", () =>
    run(() => {
      const db = tempSqlite();
      return { url: db.url, cleanup: db.remove };
    }));
  describe.skipIf(PG_URL === null)("PostgreSQL", () =>
    run(() => {
      const url = freshPgUrl("faults");
      return { url, cleanup: () => dropPgSchema(url) };
    }),
  );
}

describe("kill -9 under a mixed write load", () => {
  onDatabases((database) => {
    it("keeps every acknowledged write, tears no batch, and counts within [acknowledged, sent]", async () => {
      const db = database();
      const env = { DATABASE_URL: db.url, KV_TOKEN: TOKEN, KV_LOG_LEVEL: "warn" };
      let second: ServerProcess | undefined;
      try {
        const first = await startServerProcess(env);
        const ledger = new Ledger();
        let killed = false;
        const load = mixedLoad(
          ledger,
          () => [first.url],
          () => killed,
        );
        await sleep(1_500);
        await first.stop("SIGKILL");
        killed = true;
        await load;
        expect(ledger.sets.size + ledger.incrAcked).toBeGreaterThan(50);

        second = await startServerProcess(env);
        await verify(ledger, second.url);
        console.info(ledger.summary(`kill -9 (${db.url.startsWith("file:") ? "SQLite" : "PostgreSQL"})`));
      } finally {
        await second?.stop();
        await db.cleanup();
      }
    }, 60_000);
  });
});

describe.skipIf(PG_URL === null)("PostgreSQL stopped and started under load", () => {
  it("answers 503 at once while it is down, recovers without a restart, and loses nothing", async () => {
    const direct = freshPgUrl("faults_restart");
    const target = new URL(direct);
    const proxy = new FaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.listen();
    const timeoutMs = 1_000;
    const server = await startServerProcess({
      DATABASE_URL: proxy.url(direct),
      KV_TOKEN: TOKEN,
      KV_DB_TIMEOUT_MS: String(timeoutMs),
      KV_LOG_LEVEL: "warn",
    });
    try {
      const ledger = new Ledger();
      let done = false;
      const load = mixedLoad(
        ledger,
        () => [server.url],
        () => done,
      );
      await sleep(1_000);
      const downAt = Date.now();
      await proxy.down();
      await sleep(2_000);
      await proxy.up();
      const upAt = Date.now();
      await sleep(3_000);
      done = true;
      await load;

      // Down: the failures are 503s (never a 500, never a dropped connection), each fast.
      expect(ledger.failures.filter((f) => f.at >= downAt && f.at < upAt).length).toBeGreaterThan(0);
      for (const failure of ledger.failures) {
        expect(failure.status, failure.body).toBe(503);
        expect(failure.ms).toBeLessThan(timeoutMs + 1_500);
        expect(JSON.parse(failure.body).error.code).toBe("UNAVAILABLE");
      }
      // Up: the same process serves again within a second or so.
      const lastFailure = Math.max(...ledger.failures.map((f) => f.at));
      expect(lastFailure - upAt).toBeLessThan(1_500);
      expect(ledger.statuses.get(200) ?? 0).toBeGreaterThan(100);
      await verify(ledger, server.url);
      expect(server.output()).not.toContain("internal error");
      console.info(ledger.summary("PostgreSQL down for 2 s"));
    } finally {
      await server.stop();
      await proxy.close();
      await dropPgSchema(direct);
    }
  }, 60_000);
});

describe("two server processes on one SQLite file under mixed writes", () => {
  it("never hands a client 'locked' or 'busy', and loses nothing", async () => {
    const db = tempSqlite();
    const env = { DATABASE_URL: db.url, KV_TOKEN: TOKEN, KV_LOG_LEVEL: "warn" };
    const [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    try {
      const ledger = new Ledger();
      let done = false;
      const load = mixedLoad(
        ledger,
        () => [a.url, b.url],
        () => done,
        12,
      );
      await sleep(3_000);
      done = true;
      await load;
      expect(ledger.failures.slice(0, 5)).toEqual([]);
      expect(ledger.incrAcked).toBe(ledger.incrSent);
      expect(ledger.statuses.get(200) ?? 0).toBeGreaterThan(200);
      await verify(ledger, a.url, true);
      await verify(ledger, b.url, true);
      console.info(ledger.summary("two processes on one SQLite file"));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      db.remove();
    }
  }, 60_000);
});
