import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../src/engine/sql/migrate.ts";
import { parseDatabaseUrl } from "../../src/engine/sql/url.ts";
import { dropPgSchema, freshPgUrl, PG_URL } from "../helpers/databases.ts";
import { conformance } from "./suite.ts";
import {
  cliPath,
  ensureCli,
  freePort,
  INSTALL_TIMEOUT_MS,
  OFFLINE_ENV,
  runCommand,
  startProcess,
  TARGET_TOKENS,
  type TargetProcess,
  waitForOutput,
} from "./targets.ts";

/** The most a Worker may upload compressed on the paid plan is 10 MiB; we hold ourselves to 3 MiB. */
const MAX_GZIP_KIB = 3 * 1024;

/** Starts `wrangler dev` (workerd, offline) with the conformance tokens; resolves once it is ready. */
async function wranglerDev(args: string[]): Promise<{ url: string; proc: TargetProcess }> {
  const port = await freePort();
  const proc = startProcess(
    cliPath("wrangler"),
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(await freePort()),
      // Exposes /__scheduled on the local server only, to fire the Cron Trigger by hand.
      "--test-scheduled",
      "--var",
      `KV_TOKEN:${TARGET_TOKENS.token}`,
      "--var",
      `KV_READONLY_TOKEN:${TARGET_TOKENS.readonlyToken}`,
      ...args,
    ],
    { env: OFFLINE_ENV },
  );
  try {
    await waitForOutput(proc, /Ready on http:\/\/127\.0\.0\.1:\d+/, 120_000);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, proc };
}

// The pinned CLI is not a dependency: it is installed into deploy-tools/wrangler/ on first use.
beforeAll(() => ensureCli("wrangler"), INSTALL_TIMEOUT_MS);

describe("conformance: Cloudflare Worker in workerd (wrangler dev) on D1", () => {
  const state = mkdtempSync(join(tmpdir(), "tierkv-wrangler-"));
  let dev: TargetProcess | undefined;
  let url: string | undefined;

  const wrangler = (args: string[], timeoutMs = 120_000) =>
    runCommand(cliPath("wrangler"), args, { env: OFFLINE_ENV, timeoutMs });

  /** Rows of a query on the local D1 database the dev server uses. */
  async function d1Query(sql: string): Promise<Record<string, unknown>[]> {
    const out = await wrangler([
      "d1",
      "execute",
      "tierkv",
      "--local",
      "--persist-to",
      state,
      "--json",
      "--command",
      sql,
    ]);
    const parsed = JSON.parse(out.slice(out.indexOf("["))) as { results: Record<string, unknown>[] }[];
    return parsed[0]?.results ?? [];
  }

  beforeAll(async () => {
    const started = await wranglerDev(["--persist-to", state]);
    dev = started.proc;
    url = started.url;
  }, 150_000);

  afterAll(async () => {
    await dev?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  const base = () => {
    if (url === undefined) throw new Error("wrangler dev did not start");
    return url;
  };

  it("bundles under 3 MiB compressed", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "tierkv-bundle-"));
    try {
      const out = await wrangler(["deploy", "--dry-run", "--outdir", outdir]);
      const match = out.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
      expect(match, out).not.toBeNull();
      const gzipKiB = Number(match?.[2]);
      console.log(`Cloudflare Worker bundle: ${match?.[1]} KiB, ${gzipKiB} KiB gzip`);
      expect(gzipKiB).toBeGreaterThan(100);
      expect(gzipKiB).toBeLessThan(MAX_GZIP_KIB);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  conformance(base, { ...TARGET_TOKENS, db: "sqlite", l1: "shared" });

  it("answers a burst of concurrent requests without a hung request", async () => {
    const auth = { Authorization: `Bearer ${TARGET_TOKENS.token}`, "Content-Type": "application/json" };
    const key = `burst:${Date.now()}`;
    const request = (i: number) =>
      i % 3 === 0
        ? fetch(`${base()}/api/kv/incr`, { method: "POST", headers: auth, body: JSON.stringify({ key }) })
        : i % 3 === 1
          ? fetch(`${base()}/api/kv/hset`, {
              method: "POST",
              headers: auth,
              body: JSON.stringify({ key: `${key}:h`, field: `f${i}`, value: i }),
            })
          : fetch(`${base()}/api/kv/get?key=${encodeURIComponent(key)}`, { headers: auth });
    // wrangler dev's local proxy, in front of the Worker, sometimes loses its connection to it
    // under load (a known wrangler issue, fixed in releases that need a newer Node). It then
    // answers a POST itself, with a 503 asking to send it again (the request never reached the
    // Worker), and holds a GET until another request comes in. So the 503s of the proxy (never
    // the Worker's) are sent again, as it asks, and a health request every half second keeps
    // requests coming in; every answer of the Worker is checked as it is.
    const send = async (i: number) => {
      for (let attempt = 1; ; attempt++) {
        const reply = await request(i);
        if (reply.status !== 503 || attempt === 3) return reply;
        const text = await reply.clone().text();
        if (!text.startsWith("Your worker restarted mid-request")) return reply;
      }
    };
    const heartbeat = setInterval(() => void fetch(`${base()}/api/kv/health`).catch(() => {}), 500);
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => send(i))).finally(() =>
      clearInterval(heartbeat),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200 && s !== 404)).toEqual([]);
    const get = await fetch(`${base()}/api/kv/get?key=${encodeURIComponent(key)}`, { headers: auth });
    expect(await get.json()).toEqual({ result: 20 });
    const hash = await fetch(`${base()}/api/kv/hgetall?key=${encodeURIComponent(`${key}:h`)}`, {
      headers: auth,
    });
    expect(Object.keys(((await hash.json()) as { result: object }).result)).toHaveLength(20);
  }, 90_000);

  it("sweeps expired rows on the Cron Trigger, and exposes no sweep over HTTP", async () => {
    const key = `sweep:${Date.now()}`;
    const auth = { Authorization: `Bearer ${TARGET_TOKENS.token}`, "Content-Type": "application/json" };
    const set = await fetch(`${base()}/api/kv/setex`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ key, value: 1, ttlMs: 1 }),
    });
    expect(set.status).toBe(200);
    const count = async () =>
      Number((await d1Query(`SELECT count(*) AS n FROM kv_entries WHERE key = '${key}'`))[0]?.n);
    expect(await count()).toBe(1);
    const fired = await fetch(`${base()}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
    expect(fired.status).toBe(200);
    await expect.poll(count, { timeout: 10_000 }).toBe(0);
    const sweep = await fetch(`${base()}/api/cron/sweep`, { headers: auth });
    expect(sweep.status).toBe(404);
  });
});

describe.skipIf(PG_URL === null)(
  "conformance: Cloudflare Worker in workerd (wrangler dev) on PostgreSQL",
  () => {
    const databaseUrl = PG_URL === null ? "" : freshPgUrl("cloudflare");
    let target: { url: string; proc: TargetProcess } | undefined;
    const state = mkdtempSync(join(tmpdir(), "tierkv-wrangler-pg-"));

    beforeAll(async () => {
      // On Cloudflare the schema is applied from outside, as `npm run db:migrate` does.
      await migrate(parseDatabaseUrl(databaseUrl));
      target = await wranglerDev([
        "--env",
        "postgres",
        "--persist-to",
        state,
        "--var",
        `DATABASE_URL:${databaseUrl}`,
      ]);
    }, 150_000);

    afterAll(async () => {
      await target?.proc.stop();
      rmSync(state, { recursive: true, force: true });
      if (PG_URL !== null) await dropPgSchema(databaseUrl);
    });

    it("bundles under 3 MiB compressed", async () => {
      const outdir = mkdtempSync(join(tmpdir(), "tierkv-bundle-"));
      try {
        const out = await runCommand(
          cliPath("wrangler"),
          ["deploy", "--dry-run", "--env", "postgres", "--outdir", outdir],
          {
            env: OFFLINE_ENV,
            timeoutMs: 120_000,
          },
        );
        const match = out.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
        expect(match, out).not.toBeNull();
        console.log(`Cloudflare Worker (PostgreSQL) bundle: ${match?.[1]} KiB, ${match?.[2]} KiB gzip`);
        expect(Number(match?.[2])).toBeLessThan(MAX_GZIP_KIB);
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    });

    conformance(
      () => {
        if (target === undefined) throw new Error("wrangler dev --env postgres did not start");
        return target.url;
      },
      { ...TARGET_TOKENS, db: "postgresql", l1: "shared" },
    );
  },
);
