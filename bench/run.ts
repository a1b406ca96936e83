import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import pg from "pg";

/**
 * `npm run bench`: requests per second of tierkv's hot paths over real HTTP, each as a ratio to
 * a bare Hono route measured in the same run on the same machine. `--write` updates BENCHMARKS.md.
 */
const root = join(import.meta.dirname, "..");
const TOKEN = "bench-token";
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;
const PG_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

interface Server {
  url: string;
  child: ChildProcess;
}

function start(script: string, env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, script)], {
    cwd: root,
    env: { ...process.env, PORT: "0", KV_TOKEN: TOKEN, KV_SWEEP_INTERVAL_MS: "0", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve({ url: match[1], child });
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function post(url: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}/api/kv/${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
}

async function measure(
  url: string,
  request: { method?: "GET" | "POST"; path: string; body?: unknown },
): Promise<number> {
  const result = await autocannon({
    url: `${url}/api/kv/${request.path}`,
    method: request.method ?? "GET",
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${request.path}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return result.requests.average;
}

async function pgAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tierkv-bench-"));
  const servers: Server[] = [];
  const rows: { name: string; rps: number }[] = [];
  try {
    const bare = await start("bench/bare-server.ts", {});
    servers.push(bare);
    rows.push({ name: "bare Hono route (baseline)", rps: await measure(bare.url, { path: "get?key=k" }) });

    const targets: { label: string; url: string }[] = [
      { label: "SQLite", url: `file:${join(dir, "kv.db")}` },
    ];
    if (await pgAvailable()) {
      const schema = `bench_${process.pid}`;
      targets.push({ label: "PostgreSQL", url: `${PG_URL}?schema=${schema}` });
    } else {
      console.warn("PostgreSQL did not answer: its rows are left out");
    }
    for (const target of targets) {
      const cached = await start("src/server.ts", { DATABASE_URL: target.url });
      const direct = await start("src/server.ts", { DATABASE_URL: target.url, KV_L1_TTL_MS: "0" });
      servers.push(cached, direct);
      await post(cached.url, "set", { key: "k", value: { name: "John", points: 42 } });
      rows.push({
        name: `get, warm L1 (${target.label})`,
        rps: await measure(cached.url, { path: "get?key=k" }),
      });
      rows.push({
        name: `get, L1 off (${target.label})`,
        rps: await measure(direct.url, { path: "get?key=k" }),
      });
      rows.push({
        name: `set (${target.label})`,
        rps: await measure(direct.url, { method: "POST", path: "set", body: { key: "w", value: "v" } }),
      });
      rows.push({
        name: `incr (${target.label})`,
        rps: await measure(direct.url, { method: "POST", path: "incr", body: { key: "n" } }),
      });
      cached.child.kill("SIGTERM");
      direct.child.kill("SIGTERM");
      await Promise.all([cached, direct].map((s) => new Promise((resolve) => s.child.once("exit", resolve))));
      if (target.label === "PostgreSQL") {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "bench_${process.pid}" CASCADE`);
        await client.end();
      }
    }
  } finally {
    for (const server of servers) server.child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
  const base = rows[0]?.rps ?? 1;
  const table = [
    "| scenario | req/s | ratio to bare route |",
    "|---|---:|---:|",
    ...rows.map((r) => `| ${r.name} | ${Math.round(r.rps)} | ${(r.rps / base).toFixed(2)} |`),
  ].join("\n");
  console.log(table);
  if (process.argv.includes("--write")) {
    writeFileSync(
      join(root, "BENCHMARKS.md"),
      `# Benchmarks\n\n\`npm run bench -- --write\`: ${CONNECTIONS} connections, ${DURATION_S} s per scenario, over real HTTP on\none machine (load generator and server share its cores). Ratios are to a bare Hono route measured\nin the same run; compare ratios, not absolute numbers, across machines.\n\n${table}\n`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
