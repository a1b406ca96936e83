import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPrismaStore } from "../../src/engine/sql/open.ts";
import { freshPgSchema, PG_URL, tempSqlite } from "../helpers/databases.ts";

const WORKER = fileURLToPath(new URL("./fixtures/distributed-worker.ts", import.meta.url));
const postgres = PG_URL !== null;

interface Worker {
  child: ChildProcessWithoutNullStreams;
  lines: AsyncIterator<string>;
  closed: Promise<unknown>;
}

function startWorker(url: string, key: string, distributed: boolean): Worker {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER, url, key, distributed ? "1" : "0"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  child.on("exit", (code) => {
    if (code !== 0) console.error(`worker exited with ${code}: ${stderr}`);
  });
  // Listen for the end at once: a fast worker can be gone before its output is read.
  const closed = new Promise((resolve) => child.once("close", resolve));
  return { child, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator](), closed };
}

async function nextLine(worker: Worker): Promise<string> {
  const { value, done } = await worker.lines.next();
  if (done) throw new Error("worker ended early");
  return value;
}

/** Runs two worker processes on one database, releases them together, and counts fallback calls. */
async function race(url: string, distributed: boolean): Promise<{ calls: number; results: string[][] }> {
  const key = `report:${Math.random().toString(36).slice(2)}`;
  const counter = openPrismaStore({ url });
  try {
    await counter.delete("fallback-calls");
    const workers = [startWorker(url, key, distributed), startWorker(url, key, distributed)];
    for (const worker of workers) expect(await nextLine(worker)).toBe("ready");
    for (const worker of workers) worker.child.stdin.write("go\n");
    const outputs = await Promise.all(workers.map(nextLine));
    await Promise.all(workers.map((w) => w.closed));
    const results = outputs.map((line) => (JSON.parse(line) as { results: string[] }).results);
    return { calls: Number((await counter.get("fallback-calls")) ?? 0), results };
  } finally {
    await counter.close();
  }
}

const backends: {
  name: string;
  skip: boolean;
  make: () => { url: string; cleanup: () => Promise<void> | void };
}[] = [
  {
    name: "an SQLite file",
    skip: false,
    make: () => {
      const db = tempSqlite();
      return { url: db.url, cleanup: db.remove };
    },
  },
  {
    name: "a PostgreSQL schema",
    skip: !postgres,
    make: () => {
      const schema = freshPgSchema("cacher");
      return { url: schema.url, cleanup: schema.drop };
    },
  },
];

describe.each(backends)("two processes sharing $name", ({ skip, make }) => {
  let db: { url: string; cleanup: () => Promise<void> | void };
  beforeAll(async () => {
    if (skip) return;
    db = make();
    // Migrate once up front, so the workers do not race to create the schema.
    const store = openPrismaStore({ url: db.url });
    await store.ping();
    await store.close();
  });
  afterAll(async () => {
    if (!skip) await db.cleanup();
  });

  it.skipIf(skip)("call the fallback once in all with distributed: true", { timeout: 60_000 }, async () => {
    const { calls, results } = await race(db.url, true);
    expect(results).toEqual([
      [expect.stringMatching(/^value of report:/)],
      [expect.stringMatching(/^value of/)],
    ]);
    expect(results[0]).toEqual(results[1]);
    expect(calls).toBe(1);
  });

  it.skipIf(skip)(
    "call it once per process without it (what distributed prevents)",
    { timeout: 60_000 },
    async () => {
      const { calls } = await race(db.url, false);
      expect(calls).toBe(2);
    },
  );
});
