import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import Database from "better-sqlite3";
import pg from "pg";
import { startServer } from "./server.ts";

/**
 * `npm run soak`: SOAK_SECONDS (default 300) of mixed load on one server process, over a churning
 * keyspace larger than the L1 bound, with TTLs so that the sweep has work. Every 30 s it samples
 * the server's RSS, L1 entries and the rows in the table; at the end it prints them, the
 * throughput and latency, and the answers that were not 200. `SOAK_DB=postgresql` runs on
 * PostgreSQL (TEST_DATABASE_URL) instead of a fresh SQLite file.
 */
const TOKEN = "soak-token";
const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const SAMPLE_EVERY_S = Math.min(30, Math.max(5, Math.floor(SECONDS / 10)));
const KEYSPACE = 100_000;
const L1_MAX = 10_000;
const PG_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

interface Sample {
  at: number;
  rssMiB: number;
  l1Entries: number;
  rows: number;
  swept: number;
}

function metric(page: string, name: string): number {
  const line = page.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

async function main(): Promise<void> {
  const onPg = process.env.SOAK_DB === "postgresql";
  const dir = mkdtempSync(join(tmpdir(), "tierkv-soak-"));
  let databaseUrl = `file:${join(dir, "kv.db")}`;
  if (onPg) {
    const url = new URL(PG_URL);
    url.searchParams.set("schema", `soak_${process.pid}`);
    databaseUrl = url.toString();
  }
  const server = await startServer("src/adapters/node-server.ts", {
    KV_TOKEN: TOKEN,
    DATABASE_URL: databaseUrl,
    KV_L1_MAX_ENTRIES: String(L1_MAX),
    KV_SWEEP_INTERVAL_MS: "10000",
    KV_LOG_LEVEL: "warn",
  });
  const rows = async (): Promise<number> => {
    if (!onPg) {
      const db = new Database(join(dir, "kv.db"), { readonly: true });
      try {
        return (db.prepare(`SELECT count(*) AS n FROM "kv_entries"`).get() as { n: number }).n;
      } finally {
        db.close();
      }
    }
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const result = await client.query(`SELECT count(*)::int AS n FROM "soak_${process.pid}"."kv_entries"`);
      return result.rows[0].n as number;
    } finally {
      await client.end();
    }
  };
  const started = Date.now();
  const samples: Sample[] = [];
  const sample = async () => {
    const page = await (
      await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })
    ).text();
    samples.push({
      at: Math.round((Date.now() - started) / 1000),
      rssMiB: Math.round(metric(page, "process_resident_memory_bytes") / 2 ** 20),
      l1Entries: metric(page, "tierkv_l1_entries"),
      rows: await rows(),
      swept: metric(page, "tierkv_swept_rows_total"),
    });
  };

  const pick = (n: number) => Math.floor(Math.random() * n);
  const body = (value: unknown) => JSON.stringify(value);
  console.log(
    `soak: ${SECONDS} s on ${onPg ? "PostgreSQL" : "SQLite"}, ${KEYSPACE} keys, L1 bound ${L1_MAX}, 20 connections`,
  );
  await sample();
  const timer = setInterval(() => void sample(), SAMPLE_EVERY_S * 1000);
  const get: autocannon.Request = {
    method: "GET",
    setupRequest: (req) => ({ ...req, path: `/api/kv/get?key=soak:${pick(KEYSPACE)}` }),
  };
  const post = (path: string, make: () => unknown): autocannon.Request => ({
    method: "POST",
    path: `/api/kv/${path}`,
    setupRequest: (req) => ({ ...req, body: body(make()) }),
  });
  const set = post("set", () => ({
    key: `soak:${pick(KEYSPACE)}`,
    value: { n: pick(1e6), pad: "x".repeat(pick(200)) },
    ttlMs: 1_000 + pick(29_000),
  }));
  const incr = post("incr", () => ({ key: `soak:n:${pick(1000)}` }));
  const hset = post("hset", () => ({
    key: `soak:h:${pick(10_000)}`,
    field: `f${pick(20)}`,
    value: pick(100),
  }));
  // Per connection, in turn (autocannon cycles through the list): 60% get, 25% set with a TTL of
  // 1–30 s, 10% incr over 1,000 counters, 5% hset over 10,000 hashes.
  const result = await autocannon({
    url: server.url,
    connections: 20,
    duration: SECONDS,
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    requests: [
      ...Array.from({ length: 12 }, () => get),
      ...Array.from({ length: 5 }, () => set),
      incr,
      incr,
      hset,
    ],
  });
  clearInterval(timer);
  await sample();
  server.child.kill("SIGTERM");
  if (!onPg) rmSync(dir, { recursive: true, force: true });

  console.log(
    "\n| at (s) | RSS (MiB) | L1 entries | rows in kv_entries | rows swept |\n|---:|---:|---:|---:|---:|",
  );
  for (const s of samples) console.log(`| ${s.at} | ${s.rssMiB} | ${s.l1Entries} | ${s.rows} | ${s.swept} |`);
  const first = samples[1] ?? samples[0];
  const last = samples.at(-1);
  console.log(
    `\nrequests: ${result.requests.total} (${Math.round(result.requests.average)}/s), p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; not 2xx/404: ${result.non2xx - countOf(result, 404)}, errors ${result.errors}, timeouts ${result.timeouts}`,
  );
  if (first !== undefined && last !== undefined) {
    console.log(`RSS from the first sample under load to the end: ${first.rssMiB} → ${last.rssMiB} MiB`);
  }
  if (onPg) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "soak_${process.pid}" CASCADE`);
    await client.end();
  }
}

/** Answers with one status (a get of a key never set answers 404, which is expected here). */
function countOf(result: autocannon.Result, status: number): number {
  return (
    (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats?.[
      String(status)
    ]?.count ?? 0
  );
}

await main();
