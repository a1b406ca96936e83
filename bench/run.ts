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
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BASELINE = "bare Hono route (baseline)";
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

interface Scenario {
  name: string;
  measure: () => Promise<number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tierkv-bench-"));
  const servers: Server[] = [];
  const scenarios: Scenario[] = [];
  const schema = `bench_${process.pid}`;
  let usesPg = false;
  const results = new Map<string, { rps: number[]; ratio: number[] }>();
  try {
    const bare = await start("bench/bare-server.ts", {});
    servers.push(bare);
    const baseline = () => measure(bare.url, { path: "get?key=k" });

    const targets: { label: string; url: string }[] = [
      { label: "SQLite", url: `file:${join(dir, "kv.db")}` },
    ];
    if (await pgAvailable()) {
      usesPg = true;
      targets.push({ label: "PostgreSQL", url: `${PG_URL}?schema=${schema}` });
    } else {
      console.warn("PostgreSQL did not answer: its rows are left out");
    }
    for (const target of targets) {
      const cached = await start("src/adapters/node-server.ts", { DATABASE_URL: target.url });
      const direct = await start("src/adapters/node-server.ts", {
        DATABASE_URL: target.url,
        KV_L1_TTL_MS: "0",
      });
      servers.push(cached, direct);
      await post(cached.url, "set", { key: "k", value: { name: "John", points: 42 } });
      scenarios.push(
        { name: `get, warm L1 (${target.label})`, measure: () => measure(cached.url, { path: "get?key=k" }) },
        { name: `get, L1 off (${target.label})`, measure: () => measure(direct.url, { path: "get?key=k" }) },
        {
          name: `set (${target.label})`,
          measure: () => measure(direct.url, { method: "POST", path: "set", body: { key: "w", value: "v" } }),
        },
        {
          name: `incr (${target.label})`,
          measure: () => measure(direct.url, { method: "POST", path: "incr", body: { key: "n" } }),
        },
      );
    }
    // Each scenario is paired with a baseline measured just before it, ROUNDS times: a shared
    // machine's drift then moves both sides of a ratio, and the median drops the outliers.
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of scenarios) {
        const base = await baseline();
        const rps = await scenario.measure();
        const entry = results.get(scenario.name) ?? { rps: [], ratio: [] };
        entry.rps.push(rps);
        entry.ratio.push(rps / base);
        results.set(scenario.name, entry);
        const bareEntry = results.get(BASELINE) ?? { rps: [], ratio: [] };
        bareEntry.rps.push(base);
        bareEntry.ratio.push(1);
        results.set(BASELINE, bareEntry);
      }
    }
  } finally {
    for (const server of servers) server.child.kill("SIGTERM");
    await Promise.all(
      servers.map((s) => (s.child.exitCode === null ? new Promise((r) => s.child.once("exit", r)) : null)),
    );
    rmSync(dir, { recursive: true, force: true });
    if (usesPg) {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }
  const names = [BASELINE, ...scenarios.map((sc) => sc.name)];
  const table = [
    "| scenario | req/s (median) | ratio to bare route (median) |",
    "|---|---:|---:|",
    ...names.map((name) => {
      const r = results.get(name) ?? { rps: [0], ratio: [0] };
      return `| ${name} | ${Math.round(median(r.rps))} | ${median(r.ratio).toFixed(2)} |`;
    }),
  ].join("\n");
  console.log(table);
  if (process.argv.includes("--write")) {
    writeFileSync(
      join(root, "BENCHMARKS.md"),
      `# Benchmarks\n\n\`npm run bench -- --write\`: ${CONNECTIONS} connections over real HTTP, ${DURATION_S} s per measurement,\n${ROUNDS} rounds. Each scenario is measured right after the bare Hono route (the baseline); the\ntable gives the medians. Load generator and servers share one machine's cores, so compare\nratios, not absolute numbers, across machines.\n\n${table}\n`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
