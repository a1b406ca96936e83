import { randomUUID } from "node:crypto";
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropPgSchema, freshPgUrl, PG_URL } from "../helpers/databases.ts";
import { conformance } from "./suite.ts";
import {
  cliPath,
  ensureCli,
  INSTALL_TIMEOUT_MS,
  OFFLINE_ENV,
  ROOT,
  runCommand,
  startProcess,
  TARGET_TOKENS,
  type TargetProcess,
  waitForOutput,
} from "./targets.ts";

const OUTPUT = join(ROOT, ".vercel", "output");
const deployed = join(tmpdir(), `tierkv-vercel-${randomUUID().slice(0, 8)}`);
const SERVE = join(ROOT, "test", "conformance", "vercel-serve.mjs");
const CRON_SECRET = "conformance-cron-secret-0123456789";
const ENDPOINTS =
  "set setex get delete exists ttl expire incr decr hset hget hgetall hdel hincrby mset mget keys lock unlock extend health".split(
    " ",
  );

/** Copies a folder as hard links (the build is hundreds of MB; linking takes no time). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) linkTree(source, target);
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else linkSync(source, target);
  }
}

/** `vercel build` offline, as Vercel's build step runs it (dependencies already installed). */
async function vercelBuild(): Promise<void> {
  mkdirSync(join(ROOT, ".vercel"), { recursive: true });
  // A linked project, as `vercel link` would write it; nothing here reaches Vercel.
  writeFileSync(
    join(ROOT, ".vercel", "project.json"),
    JSON.stringify({
      projectId: "prj_tierkv_local",
      orgId: "team_tierkv_local",
      settings: { framework: null, nodeVersion: "24.x" },
    }),
  );
  rmSync(OUTPUT, { recursive: true, force: true });
  await runCommand(cliPath("vercel"), ["build", "--yes"], {
    // VERCEL_INSTALL_COMPLETED: the dependencies are installed; without it the builder runs its
    // own `npm install`, which would replace a linked node_modules.
    env: { ...OFFLINE_ENV, VERCEL_INSTALL_COMPLETED: "1" },
    timeoutMs: 240_000,
  });
}

/**
 * Serves a copy of the built functions, outside the project (so that a function misses what its
 * build left out), with the given environment; resolves once they all imported.
 */
async function serveBuild(env: Record<string, string>): Promise<{ url: string; proc: TargetProcess }> {
  if (!existsSync(deployed)) linkTree(OUTPUT, deployed);
  const proc = startProcess(process.execPath, [SERVE, deployed, "0", ROOT], {
    // VERCEL=1 is what Vercel sets in every function; the code refuses SQLite when it sees it.
    env: { VERCEL: "1", NODE_ENV: "production", KV_ALLOW_ANONYMOUS: "", ...env },
  });
  const match = await waitForOutput(proc, /listening (http:\/\/\S+)/, 60_000);
  return { url: match[1] as string, proc };
}

// The pinned CLI is not a dependency: it is installed into deploy-tools/vercel/ on first use.
beforeAll(() => ensureCli("vercel"), INSTALL_TIMEOUT_MS);

describe.skipIf(PG_URL === null)(
  "conformance: Vercel build (vercel build + Node.js functions) on PostgreSQL",
  () => {
    const databaseUrl = PG_URL === null ? "" : freshPgUrl("vercel");
    let target: { url: string; proc: TargetProcess } | undefined;

    beforeAll(async () => {
      await vercelBuild();
      target = await serveBuild({
        DATABASE_URL: databaseUrl,
        KV_TOKEN: TARGET_TOKENS.token,
        KV_READONLY_TOKEN: TARGET_TOKENS.readonlyToken,
        CRON_SECRET,
      });
    }, 300_000);

    afterAll(async () => {
      await target?.proc.stop();
      rmSync(deployed, { recursive: true, force: true });
      if (PG_URL !== null) await dropPgSchema(databaseUrl);
    });

    const url = () => {
      if (target === undefined) throw new Error("the Vercel build did not start");
      return target.url;
    };

    it("builds one Node.js function per endpoint file, plus the sweep, with the cron schedule", () => {
      const built = readdirSync(join(OUTPUT, "functions", "functions", "api", "kv"))
        .filter((name) => name.endsWith(".ts.func"))
        .map((name) => name.slice(0, -".ts.func".length))
        .sort();
      expect(built).toEqual([...ENDPOINTS].sort());
      const sweep = JSON.parse(
        readFileSync(
          join(OUTPUT, "functions", "functions", "api", "cron", "sweep.ts.func", ".vc-config.json"),
          "utf8",
        ),
      ) as { runtime: string };
      expect(sweep.runtime).toMatch(/^nodejs(22|24)\.x$/);
      const config = JSON.parse(readFileSync(join(OUTPUT, "config.json"), "utf8")) as {
        crons?: { path: string; schedule: string }[];
      };
      expect(config.crons).toEqual([{ path: "/api/cron/sweep", schedule: expect.any(String) }]);
    });

    conformance(url, { ...TARGET_TOKENS, db: "postgresql", l1: "per-endpoint" });

    describe("expiry sweep (Vercel Cron)", () => {
      it("refuses callers without the CRON_SECRET bearer token", async () => {
        for (const auth of [undefined, "Bearer wrong", `Bearer ${TARGET_TOKENS.token}`]) {
          const res = await fetch(`${url()}/api/cron/sweep`, {
            headers: auth ? { Authorization: auth } : {},
          });
          expect(res.status).toBe(401);
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
        }
      });

      it("deletes expired rows when the scheduler calls it", async () => {
        const key = `sweep:${Date.now()}`;
        const auth = { Authorization: `Bearer ${TARGET_TOKENS.token}`, "Content-Type": "application/json" };
        const set = await fetch(`${url()}/api/kv/setex`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ key, value: 1, ttlMs: 1 }),
        });
        expect(set.status).toBe(200);
        const schema = new URL(databaseUrl).searchParams.get("schema");
        const base = new URL(databaseUrl);
        base.searchParams.delete("schema");
        const db = new pg.Client({ connectionString: base.toString() });
        await db.connect();
        try {
          const count = async () =>
            Number(
              (await db.query(`SELECT count(*) AS n FROM "${schema}"."kv_entries" WHERE "key" = $1`, [key]))
                .rows[0].n,
            );
          expect(await count()).toBe(1);
          await new Promise((r) => setTimeout(r, 20));
          const res = await fetch(`${url()}/api/cron/sweep`, {
            headers: { Authorization: `Bearer ${CRON_SECRET}` },
          });
          expect(res.status).toBe(200);
          expect(res.headers.get("cache-control")).toBe("no-store");
          const body = (await res.json()) as { result: { removed: number } };
          expect(body.result.removed).toBeGreaterThanOrEqual(1);
          expect(await count()).toBe(0);
        } finally {
          await db.end();
        }
      });
    });

    it("refuses a file: DATABASE_URL on Vercel with a clear error", async () => {
      const sqlite = await serveBuild({
        DATABASE_URL: "file:./data/vercel.db",
        KV_TOKEN: TARGET_TOKENS.token,
      });
      try {
        const res = await fetch(`${sqlite.url}/api/kv/health`);
        expect(res.status).toBe(503);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe("UNAVAILABLE");
        expect(body.error.message).toMatch(/DATABASE_URL must be a postgres/);
        const get = await fetch(`${sqlite.url}/api/kv/get?key=a`, {
          headers: { Authorization: `Bearer ${TARGET_TOKENS.token}` },
        });
        expect(get.status).toBe(503);
      } finally {
        await sqlite.proc.stop();
      }
    });
  },
);
