import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FreshDatabase, sqlDatabases } from "../helpers/databases.ts";
import {
  call,
  client,
  createHarness,
  expectError,
  expectResult,
  FULL_TOKEN,
  type Harness,
  resultOf,
} from "../helpers/harness.ts";
import { type ServerProcess, startServerProcess } from "../helpers/server-process.ts";

// Keys, fields, values, patterns and tokens that look like SQL, or like SQL's own wildcards,
// through both protocols on both databases: each is data and nothing else. It round-trips
// byte for byte, matches only what a Redis glob says it matches, and the tables stay whole.

const SQL_LOOKING = [
  "'; DROP TABLE kv_entries; --",
  'a"; DELETE FROM "kv_entries" WHERE "1"="1',
  "' OR '1'='1",
  "x') UNION SELECT key, value FROM kv_entries --",
  "%",
  "_",
  "a%b_c",
  "\\",
  "$1",
  "?",
  "key\u0000nul",
  "kv_hash_fields",
  "😀'--",
];

describe.each(sqlDatabases("sql_looking"))("SQL-looking input on %s", (_, open) => {
  let db: FreshDatabase;
  let h: Harness;
  let kv: ReturnType<typeof client>;
  let other: ServerProcess;

  beforeAll(async () => {
    db = open();
    h = createHarness(db.url);
    kv = client(h.app);
    other = await startServerProcess({ DATABASE_URL: db.url, KV_TOKEN: FULL_TOKEN, KV_LOG_LEVEL: "warn" });
    for (let i = 0; i < 5; i++) expectResult(await kv.post("set", { key: `sentinel:${i}`, value: i }), true);
  });
  afterAll(async () => {
    await other?.stop();
    await h?.close();
    await db?.drop();
  });

  it("stores keys, fields and values as data, byte for byte", async () => {
    for (const text of SQL_LOOKING) {
      const key = `inj:${text}`;
      expectResult(await kv.post("set", { key, value: text }), true);
      expectResult(await kv.get("get", { key }, { headers: { "Cache-Control": "no-cache" } }), text);
      expectResult(await kv.post("hset", { key: `h:${text}`, fields: { [text]: text, plain: 1 } }), 2);
      expectResult(await kv.get("hget", { key: `h:${text}`, field: text }), text);
      expectResult(await kv.post("hdel", { key: `h:${text}`, fields: [text] }), 1);
      expectResult(
        await kv.get("hgetall", { key: `h:${text}` }, { headers: { "Cache-Control": "no-cache" } }),
        {
          plain: 1,
        },
      );
      expectResult(await kv.post("incr", { key: `n:${text}`, by: 2 }), 2);
    }
    const keys = SQL_LOOKING.map((text) => `inj:${text}`);
    expectResult(
      await kv.post("mget", { keys }, { headers: { "Cache-Control": "no-cache" } }),
      Object.fromEntries(SQL_LOOKING.map((text) => [`inj:${text}`, text])),
    );
  });

  it("matches patterns as Redis globs: SQL's % and _ are literal characters", async () => {
    const page = async (pattern: string) =>
      ((resultOf(await kv.get("keys", { pattern })) as { keys: string[] }).keys as string[]).sort();
    expect(await page("inj:%")).toEqual(["inj:%"]);
    expect(await page("inj:_")).toEqual(["inj:_"]);
    expect(await page("inj:a%b_c")).toEqual(["inj:a%b_c"]);
    expect(await page("inj:' OR '1'='1")).toEqual(["inj:' OR '1'='1"]);
    expect(await page("sentinel:%")).toEqual([]);
    expect(await page("' OR 1=1 --")).toEqual([]);
    // A pattern with SQL in it, as Redis's KEYS and SCAN take it.
    const redis = await call(h.app, "POST", "/api/redis", { body: ["KEYS", "inj:*DROP TABLE*"] });
    expect(redis.body).toEqual({ result: ["inj:'; DROP TABLE kv_entries; --"] });
    const scan = await call(h.app, "POST", "/api/redis", {
      body: ["SCAN", "0", "MATCH", "inj:%", "COUNT", "1000"],
    });
    expect(scan.body).toEqual({ result: ["0", ["inj:%"]] });
  });

  it("takes them through the Redis protocol too: keys, values, fields and script bodies", async () => {
    const redis = async (...command: string[]) =>
      (await call(h.app, "POST", "/api/redis", { body: command })).body as {
        result?: unknown;
        error?: string;
      };
    for (const text of SQL_LOOKING) {
      expect(await redis("SET", `r:${text}`, text)).toEqual({ result: "OK" });
      expect(await redis("GET", `r:${text}`)).toEqual({ result: text });
      expect(await redis("HSET", `rh:${text}`, text, text)).toEqual({ result: 1 });
      expect(await redis("HGET", `rh:${text}`, text)).toEqual({ result: text });
      expect(await redis("EVAL", `return ARGV[1] -- ${text}`, "0", text)).toEqual({ result: text });
      // The body goes to the script cache and back: another process's EVALSHA runs what was stored.
      const body = `return '${text.replace(/[\\']/g, "\\$&")}'`;
      const sha = (await redis("SCRIPT", "LOAD", body)).result as string;
      const reply = await call(other.url, "POST", "/api/redis", { body: ["EVALSHA", sha, "0"] });
      expect(reply.body).toEqual({ result: text });
    }
  });

  it("gives a lock to nobody for a token that looks like SQL", async () => {
    const lock = resultOf(await kv.post("lock", { key: "inj:lock", ttlMs: 60_000 })) as { token: string };
    for (const token of SQL_LOOKING) expectResult(await kv.post("unlock", { key: "inj:lock", token }), false);
    expectResult(await kv.post("extend", { key: "inj:lock", token: "' OR '1'='1", ttlMs: 1 }), false);
    expectResult(await kv.post("unlock", { key: "inj:lock", token: lock.token }), true);
  });

  it("refuses what is not a key (an empty one) without touching anything, and the tables stay whole", async () => {
    expectError(await kv.post("set", { key: "", value: "'; DROP TABLE kv_entries; --" }), 400, "INVALID_KEY");
    for (let i = 0; i < 5; i++) {
      expectResult(
        await kv.get("get", { key: `sentinel:${i}` }, { headers: { "Cache-Control": "no-cache" } }),
        i,
      );
    }
    const all = (resultOf(await kv.get("keys", { pattern: "*" })) as { keys: string[] }).keys;
    expect(all.filter((key) => key.startsWith("sentinel:"))).toHaveLength(5);
    // Locks live apart from keys: "inj:lock" is not among them.
    expect(all.filter((key) => key.startsWith("inj:"))).toHaveLength(SQL_LOOKING.length);
  });
});
