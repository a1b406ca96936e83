import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasRedis, REDIS_URL, sqlDatabases } from "../helpers/databases.ts";
import { FULL_TOKEN, suiteServer, uniqueId } from "../helpers/harness.ts";

// A seeded random sequence of commands, sent both to a real Redis and to tierkv through its
// Redis protocol (single commands and pipelines, base64 on and off): every reply must match.
// TIERKV_DIFF_SEED and TIERKV_DIFF_COMMANDS change the run; a failure prints the seed and the
// shortest sequence found that still reproduces it.

const COMMANDS = Number(process.env.TIERKV_DIFF_COMMANDS ?? 10_000);
const SEEDS: Record<string, number> = { SQLite: 1, PostgreSQL: 2 };
const SHRINK_BUDGET_MS = 60_000;

type Line = (string | number)[];

/** mulberry32: a small seeded generator, so a run can be replayed exactly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The commands of one run; keys are placeholders (`@name`) that a replay binds to a prefix. */
function generate(seed: number, count: number): Line[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const key = () => `@${pick(["a", "b", "c", "d", "e", "f", "n", "h1", "h2", "ü"])}`;
  const field = () => pick(["f", "g", "h", "i", "é"]);
  const value = (): string | number =>
    pick<() => string | number>([
      () => String(int(-20, 20)),
      () => int(-5, 5),
      () => pick(["", "abc", "hello world", "1.5", "007", " 5", "+3", "ünï ✓", "0", "-1"]),
      () => String(int(0, 1_000_000)),
    ])();
  // Long enough as milliseconds too: no key may expire while a run is in flight.
  const ttl = () => String(int(100_000, 10_000_000));
  // Keys and fields are never empty in tierkv (SPEC §1): arguments that may land there are not.
  const any = () =>
    pick<() => string | number>([
      () => value() || "v",
      key,
      () => pick(["EX", "px", "NX", "xx", "GT", "abc"]),
    ])();
  const templates: (() => Line)[] = [
    () => ["GET", key()],
    () => ["get", key()],
    () => ["SET", key(), value()],
    () => ["SET", key(), value(), pick(["EX", "ex", "PX"]), pick([ttl(), "0", "-5", "abc", ttl()])],
    () => ["SET", key(), value(), pick(["NX", "XX", "nx"])],
    () => ["SET", key(), value(), pick(["NX", "XX"]), pick(["EX", "PX"]), ttl()],
    () => ["SET", key(), value(), pick(["NX", "EX"]), pick(["XX", "PX", "FOO"])],
    () => ["SET", key(), value(), "EXAT", String(Math.floor(Date.now() / 1000) + int(-100, 10_000))],
    () => ["SETEX", key(), pick([ttl(), "0", "-1", "x"]), value()],
    () => ["PSETEX", key(), pick([ttl(), "0"]), value()],
    () => ["SETNX", key(), value()],
    () => ["MGET", ...Array.from({ length: int(1, 4) }, key)],
    () => ["MSET", ...Array.from({ length: int(1, 3) }, () => [key(), value()]).flat()],
    () => ["MSET", key()],
    () => ["INCR", key()],
    () => ["INCRBY", key(), pick([String(int(-100, 100)), int(-9, 9), "1.5", "x", "007"])],
    () => ["DECR", key()],
    () => ["DECRBY", key(), String(int(-100, 100))],
    () => ["STRLEN", key()],
    () => ["GETRANGE", key(), String(int(-8, 8)), String(int(-8, 8))],
    () => ["DEL", ...Array.from({ length: int(1, 3) }, key)],
    () => ["UNLINK", key()],
    () => ["EXISTS", ...Array.from({ length: int(1, 3) }, key)],
    () => ["TYPE", key()],
    () => ["TTL", key()],
    () => ["PTTL", key()],
    () => ["EXPIRE", key(), pick([ttl(), "-1", "0", "abc", ttl()])],
    () => ["EXPIRE", key(), ttl(), pick(["FOO", "bar"])],
    () => ["EXPIRE", key(), ttl(), "NX", pick(["XX", "GT", "LT"])],
    () => ["EXPIRE", key(), ttl(), "GT", "LT"],
    () => ["PEXPIRE", key(), pick([String(int(100_000, 9_000_000)), "-5"])],
    () => ["EXPIREAT", key(), String(Math.floor(Date.now() / 1000) + pick([-50, 500, 5000]))],
    () => ["EXPIRETIME", key()],
    () => ["PERSIST-NOT-A-COMMAND", key()],
    () => ["KEYS", pick(["*", "?", "[a-c]", "h*", "*1", "[^a]*", "\\a"])],
    () => ["SCAN-ALL", pick(["*", "h*", "[abc]"]), pick(["", "string", "hash"])],
    () => ["HSET", key(), ...Array.from({ length: int(1, 3) }, () => [field(), value()]).flat()],
    () => ["HSET", key(), field()],
    () => ["HMSET", key(), field(), value()],
    () => ["HGET", key(), field()],
    () => ["HMGET", key(), ...Array.from({ length: int(1, 3) }, field)],
    () => ["HGETALL", key()],
    () => ["HKEYS", key()],
    () => ["HVALS", key()],
    () => ["HLEN", key()],
    () => ["HEXISTS", key(), field()],
    () => ["HSTRLEN", key(), field()],
    () => ["HDEL", key(), ...Array.from({ length: int(1, 3) }, field)],
    () => ["HINCRBY", key(), field(), pick([String(int(-50, 50)), "x", "2.5"])],
    () => ["GETDEL", key()],
    () => ["GETSET", key(), value()],
    () => ["SET", key(), value(), "GET", ...pick([[], ["NX"], ["XX"], ["EX", ttl()]])],
    () => ["SET", key(), value(), "KEEPTTL", ...pick([[], ["XX"], ["GET"], ["EX", ttl()]])],
    () => [
      "GETEX",
      key(),
      ...pick([[], ["EX", ttl()], ["PX", ttl()], ["PERSIST"], ["EX"], ["PERSIST", "EX", ttl()]]),
    ],
    () => ["MSETNX", ...Array.from({ length: int(1, 3) }, () => [key(), value()]).flat()],
    () => ["APPEND", key(), value()],
    () => ["INCRBYFLOAT", key(), pick(["0.1", "-2.5", "3", "1e2", "abc", "1.25", "-0.1", " 1", "5e-3"])],
    () => ["HINCRBYFLOAT", key(), field(), pick(["0.1", "-2.5", "3", "x", "2e1"])],
    () => ["HSETNX", key(), field(), value()],
    () => ["EXPIRE", key(), ttl(), pick(["NX", "XX", "GT", "LT", "nx"])],
    () => ["PERSIST", key()],
    () => ["RENAME", key(), key()],
    () => ["RENAMENX", key(), key()],
    () => ["COPY", key(), key(), ...pick([[], ["REPLACE"], ["DB", "0"], ["FOO"]])],
    () => ["TOUCH", ...Array.from({ length: int(1, 3) }, key)],
    () => ["PING"],
    () => ["PING", value()],
    () => ["ECHO", value()],
    // Wrong arities: the first argument is always one of the run's keys, so that nothing this
    // sends to the shared Redis can touch a key outside the run's prefix.
    () => [
      pick(["GET", "HGET", "INCR", "TTL", "HSET", "ECHO", "SETNX"]),
      key(),
      ...Array.from({ length: int(0, 4) }, any),
    ],
    () => [pick(["GET", "HGETALL", "MGET", "PING", "EXPIRE"])],
    () => [pick(["NOSUCH", "frobnicate", "Hget2"]), ...Array.from({ length: int(0, 2) }, any)],
  ];
  // Every 25 commands, the whole state of every key is compared too, so that a command whose
  // reply agreed but whose write did not is caught where it happened.
  const keys = ["a", "b", "c", "d", "e", "f", "n", "h1", "h2", "ü"].map((k) => `@${k}`);
  return Array.from({ length: count }, (_, i) => (i % 25 === 24 ? ["STATE", ...keys] : pick(templates)()));
}

/** Each key's type, value (or sorted fields) and whether it has a TTL, through `run`. */
async function stateOf(keys: string[], run: (line: Line) => Promise<Reply>): Promise<string[]> {
  const out: string[] = [];
  for (const key of keys) {
    const type = await run(["TYPE", key]);
    let value: unknown = null;
    if (type === "string") value = await run(["GET", key]);
    if (type === "hash") {
      const flat = (await run(["HGETALL", key])) as string[];
      const pairs: string[] = [];
      for (let f = 0; f < flat.length; f += 2) pairs.push(`${flat[f]}=${flat[f + 1]}`);
      value = pairs.sort();
    }
    const ttl = (await run(["PTTL", key])) as number;
    out.push(JSON.stringify([type, value, ttl >= 0]));
  }
  return out.sort();
}

type Reply = string | number | null | { error: string } | Reply[];

/** Keys of the run bound to its prefix; patterns too, so each run sees only its own keys. */
function bind(line: Line, prefix: string): Line {
  const [name] = line;
  return line.map((arg, i) => {
    if (typeof arg !== "string") return arg;
    if (arg.startsWith("@")) return `${prefix}${arg.slice(1)}`;
    if (i === 1 && (name === "KEYS" || name === "SCAN-ALL")) return `${prefix}${arg}`;
    return arg;
  });
}

/** Replies made comparable: unordered listings sorted, hash pairs as a sorted list of pairs. */
function normalize(line: Line, reply: Reply, prefix: string): unknown {
  if (reply === null || typeof reply !== "object" || !Array.isArray(reply)) return reply;
  const name = String(line[0]).toUpperCase();
  const strip = (key: unknown) => (typeof key === "string" ? key.slice(prefix.length) : key);
  if (name === "KEYS" || name === "SCAN-ALL") return reply.map(strip).sort();
  if (name === "HKEYS" || name === "HVALS") return [...reply].sort();
  if (name === "HGETALL") {
    const pairs: string[] = [];
    for (let i = 0; i < reply.length; i += 2) pairs.push(`${reply[i]}=${reply[i + 1]}`);
    return pairs.sort();
  }
  return reply;
}

/** Whether two normalized replies agree; TTLs may differ by the time between the two calls. */
function agree(line: Line, a: unknown, b: unknown): boolean {
  const name = String(line[0]).toUpperCase();
  if (typeof a === "number" && typeof b === "number" && a >= 0 && b >= 0) {
    if (name === "TTL" || name === "EXPIRETIME") return Math.abs(a - b) <= 1;
    if (name === "PTTL") return Math.abs(a - b) <= 1500;
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

function decodeBase64(reply: unknown): Reply {
  if (typeof reply === "string") return Buffer.from(reply, "base64").toString();
  if (Array.isArray(reply)) return reply.map(decodeBase64);
  return reply as Reply;
}

describe.skipIf(!(await hasRedis()))("the Redis protocol against a real Redis", () => {
  let redis: IORedis;
  beforeAll(() => {
    redis = new IORedis(REDIS_URL);
  });
  afterAll(() => redis?.disconnect());

  describe.each(sqlDatabases("differential"))("on %s", (label, open) => {
    const running = suiteServer(open);

    /** One command on Redis, as its reply or error text. */
    async function onRedis(line: Line, prefix: string): Promise<Reply> {
      const [name, ...args] = line.map(String) as [string, ...string[]];
      if (name === "SCAN-ALL") return scanAll((cursor) => redisScan(cursor, args, prefix));
      if (name === "STATE") return stateOf(args, (sub) => onRedis(sub, prefix));
      try {
        return (await redis.call(name, ...args)) as Reply;
      } catch (error) {
        return { error: (error as Error).message };
      }
    }

    async function redisScan(
      cursor: string,
      [pattern, type]: string[],
      _prefix: string,
    ): Promise<[string, string[]]> {
      const extra = type ? ["TYPE", type] : [];
      // Redis's COUNT bounds the slots one call visits, not its matches: a Redis that holds many
      // other keys (a benchmark's, say) would take thousands of calls with a small one.
      return (await redis.call("SCAN", cursor, "MATCH", pattern as string, "COUNT", "1000", ...extra)) as [
        string,
        string[],
      ];
    }

    /** Commands on tierkv: one alone, or several as one pipeline; base64 chosen per request. */
    async function onTierkv(lines: Line[], base64: boolean): Promise<Reply[]> {
      const scans = lines.map((line) => line[0] === "SCAN-ALL" || line[0] === "STATE");
      if (scans.some(Boolean)) {
        const out: Reply[] = [];
        for (const line of lines) {
          if (line[0] === "STATE") {
            out.push(
              await stateOf(
                line.slice(1).map(String),
                async (sub) => (await onTierkv([sub], false))[0] as Reply,
              ),
            );
          } else if (line[0] !== "SCAN-ALL") out.push(...(await onTierkv([line], base64)));
          else {
            const [pattern, type] = line.slice(1).map(String);
            out.push(
              await scanAll(async (cursor) => {
                const extra = type ? ["TYPE", type] : [];
                const [reply] = await onTierkv(
                  [["SCAN", cursor, "MATCH", pattern as string, "COUNT", 3, ...extra]],
                  base64,
                );
                return reply as [string, string[]];
              }),
            );
          }
        }
        return out;
      }
      const single = lines.length === 1;
      const response = await fetch(`${running().url}/api/redis${single ? "" : "/pipeline"}`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${FULL_TOKEN}`,
          ...(base64 ? { "Upstash-Encoding": "base64" } : {}),
        },
        body: JSON.stringify(single ? lines[0] : lines),
      });
      const body = (await response.json()) as
        | { result?: unknown; error?: string }
        | { result?: unknown; error?: string }[];
      const slots = Array.isArray(body) ? body : [body];
      if (single && response.status !== 200 && slots[0]?.error === undefined)
        throw new Error(`status ${response.status}`);
      return slots.map((slot) => {
        const keys = Object.keys(slot);
        if (keys.length !== 1)
          throw new Error(`a slot holds exactly result or error: ${JSON.stringify(slot)}`);
        if (slot.error !== undefined) return { error: slot.error };
        return base64 ? decodeBase64(slot.result) : (slot.result as Reply);
      });
    }

    async function scanAll(page: (cursor: string) => Promise<[string, string[]]>): Promise<string[]> {
      const keys: string[] = [];
      let cursor = "0";
      for (let calls = 0; calls < 1000; calls++) {
        const [next, found] = await page(cursor);
        keys.push(...found);
        cursor = String(next);
        if (cursor === "0") return [...new Set(keys)];
      }
      throw new Error("SCAN never came back to cursor 0");
    }

    /** Runs lines on both; answers the index of the first mismatch (and both replies), if any. */
    async function compare(
      lines: Line[],
      seed: number,
    ): Promise<{ at: number; redis: unknown; tierkv: unknown } | undefined> {
      const prefix = `diff:${uniqueId()}:`;
      const next = random(seed ^ 0x5bd1e995);
      for (let i = 0; i < lines.length; ) {
        const size = next() < 0.5 ? 1 : 1 + Math.floor(next() * 10);
        const batch = lines.slice(i, i + size).map((line) => bind(line, prefix));
        const base64 = next() < 0.5;
        const theirs: Reply[] = [];
        for (const line of batch) theirs.push(await onRedis(line, prefix));
        const ours = await onTierkv(batch, base64);
        for (let j = 0; j < batch.length; j++) {
          const line = batch[j] as Line;
          const a = normalize(line, theirs[j] as Reply, prefix);
          const b = normalize(line, ours[j] as Reply, prefix);
          if (!agree(line, a, b)) {
            await forget(prefix);
            return { at: i + j, redis: a, tierkv: b };
          }
        }
        i += batch.length;
      }
      await forget(prefix);
      return undefined;
    }

    /** Deletes a run's keys from Redis (tierkv's go with its database). */
    async function forget(prefix: string): Promise<void> {
      const keys = await scanAll((cursor) => redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", "1000"));
      if (keys.length > 0) await redis.del(...keys);
    }

    /**
     * Drops every command it can while the last one still mismatches: first those naming none of
     * its keys, then chunks of halving size.
     */
    async function shrink(lines: Line[], seed: number): Promise<Line[]> {
      const fails = async (candidate: Line[]) => {
        const found = await compare(candidate, seed);
        return found !== undefined && found.at === candidate.length - 1;
      };
      const last = lines[lines.length - 1] as Line;
      const keys = new Set(last.filter((arg) => typeof arg === "string" && arg.startsWith("@")));
      const related = lines.filter(
        (line, i) => i === lines.length - 1 || line.some((arg) => keys.has(arg as string)),
      );
      let current = (await fails(related)) ? related : lines;
      // Bounded in time: past the budget it reports the shortest sequence found so far.
      const deadline = Date.now() + SHRINK_BUDGET_MS;
      for (let chunk = Math.floor(current.length / 2); chunk >= 1; chunk = Math.floor(chunk / 2)) {
        for (let start = current.length - 1 - chunk; start >= 0 && Date.now() < deadline; start -= chunk) {
          const without = [...current.slice(0, start), ...current.slice(start + chunk)];
          if (await fails(without)) current = without;
        }
      }
      return current;
    }

    it(`answers ${COMMANDS} random commands exactly as Redis does`, { timeout: 600_000 }, async () => {
      const seed = Number(process.env.TIERKV_DIFF_SEED ?? SEEDS[label]);
      const lines = generate(seed, COMMANDS);
      const found = await compare(lines, seed);
      if (found !== undefined) {
        const shortest = await shrink(lines.slice(0, found.at + 1), seed);
        const final = await compare(shortest, seed);
        expect.fail(
          [
            `seed ${seed}: command ${found.at} differs from Redis.`,
            "Shortest sequence found (keys as placeholders):",
            ...shortest.map((line) => `  ${JSON.stringify(line)}`),
            `Redis:  ${JSON.stringify(final?.redis ?? found.redis)}`,
            `tierkv: ${JSON.stringify(final?.tierkv ?? found.tierkv)}`,
          ].join("\n"),
        );
      }
    });
  });
});
