import { createHash } from "node:crypto";
import { serve } from "@hono/node-server";
import KeyvPostgres from "@keyv/postgres";
import KeyvSqlite from "@keyv/sqlite";
import Database from "better-sqlite3";
import { type Context, Hono } from "hono";
import { Redis } from "ioredis";
import Keyv from "keyv";
import pg from "pg";

/**
 * What a user would pick instead of tierkv, behind the same Hono + node-server stack and the
 * same routes and bodies as tierkv's native API, so that only the store differs:
 * `BASELINE=map|sqlite|pg|redis|keyv-sqlite|keyv-pg`, `BASELINE_URL` for its database.
 */
interface Backend {
  get(key: string): Promise<string | undefined>;
  set(key: string, json: string): Promise<void>;
  incr(key: string): Promise<number>;
  mget(keys: string[]): Promise<(string | undefined)[]>;
  hset(key: string, fields: Record<string, string>): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
}

function mapBackend(): Backend {
  const strings = new Map<string, string>();
  const hashes = new Map<string, Map<string, string>>();
  return {
    get: async (key) => strings.get(key),
    set: async (key, json) => {
      strings.set(key, json);
    },
    incr: async (key) => {
      const next = Number(strings.get(key) ?? 0) + 1;
      strings.set(key, String(next));
      return next;
    },
    mget: async (keys) => keys.map((k) => strings.get(k)),
    hset: async (key, fields) => {
      const hash = hashes.get(key) ?? new Map<string, string>();
      hashes.set(key, hash);
      let created = 0;
      for (const [f, v] of Object.entries(fields)) {
        if (!hash.has(f)) created++;
        hash.set(f, v);
      }
      return created;
    },
    hgetall: async (key) => Object.fromEntries(hashes.get(key) ?? []),
  };
}

/** better-sqlite3 with prepared statements, WAL and `synchronous = NORMAL`, as tierkv runs SQLite. */
function sqliteBackend(path: string): Backend {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
           CREATE TABLE IF NOT EXISTS kv_hash (key TEXT, field TEXT, value TEXT NOT NULL, PRIMARY KEY (key, field));`);
  const get = db.prepare<[string], { value: string }>("SELECT value FROM kv WHERE key = ?");
  const set = db.prepare(
    "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  const incr = db.prepare<[string], { value: string }>(
    `INSERT INTO kv (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) RETURNING value`,
  );
  const mget = db.prepare<[string], { key: string; value: string }>(
    "SELECT key, value FROM kv WHERE key IN (SELECT value FROM json_each(?))",
  );
  const hasField = db.prepare("SELECT 1 FROM kv_hash WHERE key = ? AND field = ?");
  const hset = db.prepare(
    "INSERT INTO kv_hash (key, field, value) VALUES (?, ?, ?) ON CONFLICT (key, field) DO UPDATE SET value = excluded.value",
  );
  const hgetall = db.prepare<[string], { field: string; value: string }>(
    "SELECT field, value FROM kv_hash WHERE key = ? ORDER BY field",
  );
  const hsetAll = db.transaction((key: string, fields: Record<string, string>) => {
    let created = 0;
    for (const [f, v] of Object.entries(fields)) {
      if (hasField.get(key, f) === undefined) created++;
      hset.run(key, f, v);
    }
    return created;
  });
  return {
    get: async (key) => get.get(key)?.value,
    set: async (key, json) => {
      set.run(key, json);
    },
    incr: async (key) => Number(incr.get(key)?.value),
    mget: async (keys) => {
      const found = new Map(mget.all(JSON.stringify(keys)).map((r) => [r.key, r.value]));
      return keys.map((k) => found.get(k));
    },
    hset: async (key, fields) => hsetAll(key, fields),
    hgetall: async (key) => Object.fromEntries(hgetall.all(key).map((r) => [r.field, r.value])),
  };
}

/** node-postgres with named prepared statements and a pool of 10, as tierkv's. */
async function pgBackend(url: string): Promise<Backend> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_kv (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE IF NOT EXISTS bench_kv_hash (key TEXT COLLATE "C", field TEXT COLLATE "C", value TEXT NOT NULL, PRIMARY KEY (key, field))`);
  const q = (name: string, text: string, values: unknown[]) => pool.query({ name, text, values });
  return {
    get: async (key) => (await q("get", "SELECT value FROM bench_kv WHERE key = $1", [key])).rows[0]?.value,
    set: async (key, json) => {
      await q(
        "set",
        "INSERT INTO bench_kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, json],
      );
    },
    incr: async (key) =>
      Number(
        (
          await q(
            "incr",
            `INSERT INTO bench_kv (key, value) VALUES ($1, '1') ON CONFLICT (key) DO UPDATE SET value = (bench_kv.value::bigint + 1)::text RETURNING value`,
            [key],
          )
        ).rows[0]?.value,
      ),
    mget: async (keys) => {
      const { rows } = await q("mget", "SELECT key, value FROM bench_kv WHERE key = ANY($1)", [keys]);
      const found = new Map(rows.map((r) => [r.key as string, r.value as string]));
      return keys.map((k) => found.get(k));
    },
    hset: async (key, fields) => {
      const names = Object.keys(fields);
      const { rows } = await q(
        "hset",
        `WITH input AS (SELECT * FROM unnest($2::text[], $3::text[]) AS t(field, value)),
              existing AS (SELECT count(*) AS n FROM bench_kv_hash WHERE key = $1 AND field = ANY($2)),
              written AS (INSERT INTO bench_kv_hash (key, field, value) SELECT $1, field, value FROM input
                          ON CONFLICT (key, field) DO UPDATE SET value = excluded.value RETURNING 1)
         SELECT (SELECT count(*) FROM written) - (SELECT n FROM existing) AS created`,
        [key, names, names.map((n) => fields[n])],
      );
      return Number(rows[0]?.created);
    },
    hgetall: async (key) => {
      const { rows } = await q(
        "hgetall",
        "SELECT field, value FROM bench_kv_hash WHERE key = $1 ORDER BY field",
        [key],
      );
      return Object.fromEntries(rows.map((r) => [r.field as string, r.value as string]));
    },
  };
}

function redisBackend(url: string): Backend {
  const redis = new Redis(url);
  return {
    get: async (key) => (await redis.get(key)) ?? undefined,
    set: async (key, json) => {
      await redis.set(key, json);
    },
    incr: (key) => redis.incr(key),
    mget: async (keys) => (await redis.mget(keys)).map((v) => v ?? undefined),
    hset: (key, fields) => redis.hset(key, fields),
    hgetall: (key) => redis.hgetall(key),
  };
}

/**
 * Keyv over one of its SQL stores. Keyv has no counters or hashes: `incr` is a read and a
 * write (not atomic), a hash is one object under its key. Values are kept as JSON text.
 */
function keyvBackend(keyv: Keyv<string>): Backend {
  return {
    get: (key) => keyv.get(key),
    set: async (key, json) => {
      await keyv.set(key, json);
    },
    incr: async (key) => {
      const next = Number((await keyv.get(key)) ?? 0) + 1;
      await keyv.set(key, String(next));
      return next;
    },
    mget: async (keys) => (await keyv.getMany(keys)).map((v) => v ?? undefined),
    hset: async (key, fields) => {
      const hash = JSON.parse((await keyv.get(key)) ?? "{}") as Record<string, string>;
      const created = Object.keys(fields).filter((f) => !(f in hash)).length;
      await keyv.set(key, JSON.stringify({ ...hash, ...fields }));
      return created;
    },
    hgetall: async (key) => JSON.parse((await keyv.get(key)) ?? "{}") as Record<string, string>,
  };
}

async function backend(): Promise<Backend> {
  const kind = process.env.BASELINE ?? "map";
  const url = process.env.BASELINE_URL ?? "";
  switch (kind) {
    case "map":
      return mapBackend();
    case "sqlite":
      return sqliteBackend(url);
    case "pg":
      return pgBackend(url);
    case "redis":
      return redisBackend(url);
    case "keyv-sqlite":
      return keyvBackend(new Keyv<string>({ store: new KeyvSqlite(`sqlite://${url}`) }));
    case "keyv-pg":
      return keyvBackend(new Keyv<string>({ store: new KeyvPostgres({ uri: url, table: "bench_keyv" }) }));
    default:
      throw new Error(`unknown BASELINE ${kind}`);
  }
}

const store = await backend();
const app = new Hono();
const json = (c: Context, text: string) => {
  c.header("Content-Type", "application/json");
  return c.body(`{"result":${text}}`);
};
app.get("/api/kv/get", async (c) => {
  const value = await store.get(c.req.query("key") ?? "");
  return value === undefined
    ? c.json({ error: { code: "NOT_FOUND", message: "key not found" } }, 404)
    : json(c, value);
});
app.post("/api/kv/set", async (c) => {
  const body = await c.req.json<{ key: string; value: unknown }>();
  await store.set(body.key, JSON.stringify(body.value));
  return c.json({ result: true });
});
app.post("/api/kv/incr", async (c) =>
  c.json({ result: await store.incr((await c.req.json<{ key: string }>()).key) }),
);
app.post("/api/kv/mget", async (c) => {
  const { keys } = await c.req.json<{ keys: string[] }>();
  const values = await store.mget(keys);
  const parts = keys.flatMap((k, i) =>
    values[i] === undefined ? [] : [`${JSON.stringify(k)}:${values[i]}`],
  );
  return json(c, `{${parts.join(",")}}`);
});
app.post("/api/kv/hset", async (c) => {
  const { key, fields } = await c.req.json<{ key: string; fields: Record<string, unknown> }>();
  const encoded = Object.fromEntries(Object.entries(fields).map(([f, v]) => [f, JSON.stringify(v)]));
  return c.json({ result: await store.hset(key, encoded) });
});
app.get("/api/kv/hgetall", async (c) => {
  const fields = await store.hgetall(c.req.query("key") ?? "");
  return json(
    c,
    `{${Object.entries(fields)
      .map(([f, v]) => `${JSON.stringify(f)}:${v}`)
      .join(",")}}`,
  );
});
if (process.env.BASELINE === "redis") {
  // The Redis protocol's scenarios (Upstash's REST form) straight onto ioredis, as a
  // Redis-over-HTTP service answers them.
  const redis = new Redis(process.env.BASELINE_URL ?? "");
  // @upstash/ratelimit's scripts declare `allow-key-locking`, a flag Upstash's servers accept
  // and Redis 7.0 refuses: the flag is dropped before a script reaches Redis, and the SHA1 the
  // client knows the script by is mapped to the one Redis knows it by.
  const shas = new Map<string, string>();
  const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
  const forRedis = (line: [string, ...(string | number)[]]): [string, ...(string | number)[]] => {
    const [name, first, ...rest] = line;
    const upper = name.toUpperCase();
    if ((upper === "EVAL" || upper === "EVAL_RO") && typeof first === "string" && first.startsWith("#!lua")) {
      const body = first.replace(/^#!lua[^\n]*/, (shebang) =>
        shebang.replace(/\s+flags=(\S*)/, (_, flags: string) => {
          const kept = flags.split(",").filter((flag) => flag !== "allow-key-locking");
          return kept.length > 0 ? ` flags=${kept.join(",")}` : "";
        }),
      );
      shas.set(sha1(first), sha1(body));
      return [name, body, ...rest];
    }
    const known = shas.get(String(first).toLowerCase());
    if ((upper === "EVALSHA" || upper === "EVALSHA_RO") && known !== undefined) return [name, known, ...rest];
    return line;
  };
  app.post("/api/redis", async (c) => {
    const [command, ...args] = forRedis(await c.req.json<[string, ...(string | number)[]]>());
    try {
      return c.json({ result: await redis.call(command, ...args) });
    } catch (error) {
      return c.json({ error: (error as Error).message }, 400);
    }
  });
  app.post("/api/redis/pipeline", async (c) => {
    const commands = await c.req.json<[string, ...(string | number)[]][]>();
    const replies =
      (await redis.pipeline(commands.map((command) => ["call", ...forRedis(command)])).exec()) ?? [];
    return c.json(replies.map(([error, result]) => (error ? { error: error.message } : { result })));
  });
}
serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
