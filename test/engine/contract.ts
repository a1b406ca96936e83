import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvError } from "../../src/core/errors.ts";
import type { Clock } from "../../src/core/types.ts";
import type { KvStore } from "../../src/engine/types.ts";
import { fakeClock } from "../helpers/databases.ts";

/** A store under test, and what to do when the suite is done. */
export interface StoreUnderTest {
  store: KvStore;
  cleanup?: () => Promise<void> | void;
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KvError) return error.code;
    throw error;
  }
  return "no error";
}

/**
 * The behaviour every `KvStore` must have (SPEC §1, §3), run against each backend. Time comes
 * from a fake clock the suite moves, so TTLs are tested without sleeping.
 */
export function storeContract(
  name: string,
  make: (clock: Clock) => Promise<StoreUnderTest> | StoreUnderTest,
): void {
  describe(`KvStore contract: ${name}`, () => {
    const clock = fakeClock();
    let subject: StoreUnderTest;
    let kv: KvStore;
    let n = 0;
    const key = (label: string) => `${label}:${++n}`;

    beforeAll(async () => {
      subject = await make(clock);
      kv = subject.store;
    });
    afterAll(async () => {
      await kv?.close();
      await subject?.cleanup?.();
    });

    it("stores any JSON value and tells a stored null from a missing key", async () => {
      const values = ["text", 42, -1.5, true, false, null, [1, "a", null], { nested: { a: [1, 2] } }, "", 0];
      for (const value of values) {
        const k = key("json");
        expect(await kv.set(k, value)).toBe(true);
        expect(await kv.get(k)).toEqual(value);
      }
      expect(await kv.get(key("missing"))).toBeUndefined();
    });

    it("accepts keys with any UTF-8 characters", async () => {
      for (const k of [
        "with space",
        "a:b:c",
        "star*?[x]",
        "émoji 🎉",
        `quote"'`,
        "100%_",
        "__proto__",
        "nul\u0000byte",
      ]) {
        await kv.set(k, k);
        expect(await kv.get(k)).toBe(k);
        expect(await kv.delete(k)).toBe(1);
      }
    });

    it("keeps control characters, U+0000 included, in keys, fields and lock names, in byte order", async () => {
      const p = key("ctl");
      const names = [
        `${p}:\u0002`,
        `${p}:\u0000`,
        `${p}:\u0001\u0001`,
        `${p}:\u0001`,
        `${p}:\u0000\u0002`,
        `${p}:`,
      ];
      for (const [i, k] of names.entries()) await kv.set(k, i);
      const sorted = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect((await kv.keys({ pattern: `${p}:*` })).keys).toEqual(sorted);
      expect((await kv.keys({ pattern: `${p}:?` })).keys).toEqual(
        sorted.filter((k) => [...k].length === p.length + 2),
      );
      expect(await kv.mGet(names)).toEqual(Object.fromEntries(names.map((k, i) => [k, i])));
      const h = key("ctl-hash");
      expect(await kv.hSet(h, { "f\u0000": 1, "f\u0001": 2 })).toBe(2);
      expect(await kv.hGetAll(h)).toEqual({ "f\u0000": 1, "f\u0001": 2 });
      expect(await kv.hIncrBy(h, "f\u0000", 1)).toBe(2);
      expect(await kv.hDel(h, ["f\u0001"])).toBe(1);
      expect(await kv.hGet(h, "f\u0000")).toBe(2);
      const lock = await kv.lock("lock\u0000", 1_000);
      expect(lock.acquired).toBe(true);
      expect(await kv.unlock("lock\u0000", lock.token as string)).toBe(true);
      expect(await kv.incr(`${p}:\u0000n`)).toBe(1);
      expect(await kv.ttl(`${p}:\u0000n`)).toBe(-1);
      expect(await kv.delete(`${p}:\u0000n`)).toBe(1);
    });

    it("set with nx writes only a missing key, with xx only an existing one", async () => {
      const k = key("nx");
      expect(await kv.set(k, 1, { xx: true })).toBe(false);
      expect(await kv.exists(k)).toBe(false);
      expect(await kv.set(k, 1, { nx: true })).toBe(true);
      expect(await kv.set(k, 2, { nx: true })).toBe(false);
      expect(await kv.get(k)).toBe(1);
      expect(await kv.set(k, 3, { xx: true })).toBe(true);
      expect(await kv.get(k)).toBe(3);
    });

    it("set with nx treats an expired key as missing", async () => {
      const k = key("nx-expired");
      await kv.set(k, "old", { ttlMs: 100 });
      clock.advance(100);
      expect(await kv.set(k, "new", { nx: true })).toBe(true);
      expect(await kv.get(k)).toBe("new");
      expect(await kv.ttl(k)).toBe(-1);
    });

    it("expires keys at their instant for every read", async () => {
      const k = key("ttl");
      await kv.setEx(k, "v", 1_000);
      expect(await kv.ttl(k)).toBe(1_000);
      clock.advance(999);
      expect(await kv.get(k)).toBe("v");
      expect(await kv.ttl(k)).toBe(1);
      clock.advance(1);
      expect(await kv.get(k)).toBeUndefined();
      expect(await kv.exists(k)).toBe(false);
      expect(await kv.ttl(k)).toBe(-2);
      expect(await kv.mGet([k])).toEqual({});
      expect((await kv.keys({ pattern: k })).keys).toEqual([]);
      expect(await kv.delete(k)).toBe(0);
      expect(await kv.expire(k, 1_000)).toBe(false);
    });

    it("set without ttl removes an earlier expiry; expire sets one", async () => {
      const k = key("persist");
      await kv.set(k, 1, { ttlMs: 500 });
      await kv.set(k, 2);
      expect(await kv.ttl(k)).toBe(-1);
      expect(await kv.expire(k, 2_000)).toBe(true);
      expect(await kv.ttl(k)).toBe(2_000);
      expect(await kv.ttl(key("none"))).toBe(-2);
    });

    it("delete answers how many keys it removed", async () => {
      const k = key("del");
      await kv.set(k, 1);
      expect(await kv.delete(k)).toBe(1);
      expect(await kv.delete(k)).toBe(0);
      await kv.hSet(k, { f: 1 });
      expect(await kv.delete(k)).toBe(1);
      expect(await kv.hGetAll(k)).toEqual({});
    });

    it("counts from zero, on integers and on strings holding one", async () => {
      const k = key("counter");
      expect(await kv.incr(k)).toBe(1);
      expect(await kv.incrBy(k, 10)).toBe(11);
      expect(await kv.decr(k)).toBe(10);
      expect(await kv.decr(k, 15)).toBe(-5);
      expect(await kv.get(k)).toBe(-5);
      const s = key("counter-string");
      await kv.set(s, "41");
      expect(await kv.incr(s)).toBe(42);
      expect(await kv.get(s)).toBe(42);
      const neg = key("counter-neg");
      await kv.set(neg, "-7");
      expect(await kv.incrBy(neg, 7)).toBe(0);
    });

    it("refuses counters on values that are not integers, changing nothing", async () => {
      for (const value of [
        "abc",
        1.5,
        "1.5",
        "007",
        " 1",
        "+1",
        "",
        true,
        null,
        [1],
        { a: 1 },
        2 ** 53,
        "9007199254740992",
      ]) {
        const k = key("not-int");
        await kv.set(k, value);
        expect(await code(kv.incr(k))).toBe("NOT_INTEGER");
        expect(await kv.get(k)).toEqual(value);
      }
    });

    it("refuses a counter step that is not a safe integer (JavaScript callers), changing nothing", async () => {
      const k = key("step");
      await kv.set(k, 5);
      const bad = [undefined, null, 1.5, Number.NaN, 2 ** 53, "1"] as unknown as number[];
      for (const by of bad) {
        expect(await code(kv.incrBy(k, by)), String(by)).toBe("BAD_REQUEST");
        expect(await code(kv.hIncrBy(key("hstep"), "f", by)), String(by)).toBe("BAD_REQUEST");
      }
      expect(await code(kv.decr(k, null as unknown as number))).toBe("BAD_REQUEST");
      expect(await kv.get(k)).toBe(5);
    });

    it("refuses a counter result outside ±(2^53−1), changing nothing", async () => {
      const k = key("overflow");
      await kv.set(k, Number.MAX_SAFE_INTEGER - 1);
      expect(await kv.incr(k)).toBe(Number.MAX_SAFE_INTEGER);
      expect(await code(kv.incr(k))).toBe("OVERFLOW");
      expect(await kv.get(k)).toBe(Number.MAX_SAFE_INTEGER);
      const low = key("underflow");
      await kv.set(low, -Number.MAX_SAFE_INTEGER);
      expect(await code(kv.decr(low))).toBe("OVERFLOW");
      expect(await kv.get(low)).toBe(-Number.MAX_SAFE_INTEGER);
    });

    it("keeps a counter's TTL, and restarts an expired counter at zero", async () => {
      const k = key("counter-ttl");
      await kv.set(k, 5, { ttlMs: 1_000 });
      expect(await kv.incr(k)).toBe(6);
      expect(await kv.ttl(k)).toBe(1_000);
      clock.advance(1_000);
      expect(await kv.incr(k)).toBe(1);
      expect(await kv.ttl(k)).toBe(-1);
    });

    it("hashes: set, get, get all, delete, count new fields", async () => {
      const k = key("hash");
      expect(await kv.hSet(k, { a: 1, b: "two" })).toBe(2);
      expect(await kv.hSet(k, { b: { x: 1 }, c: null })).toBe(1);
      expect(await kv.hGet(k, "b")).toEqual({ x: 1 });
      expect(await kv.hGet(k, "c")).toBeNull();
      expect(await kv.hGet(k, "zz")).toBeUndefined();
      expect(await kv.hGet(key("no-hash"), "a")).toBeUndefined();
      expect(await kv.hGetAll(k)).toEqual({ a: 1, b: { x: 1 }, c: null });
      expect(await kv.hGetAll(key("no-hash"))).toEqual({});
      expect(await kv.hDel(k, ["a", "zz"])).toBe(1);
      expect(await kv.exists(k)).toBe(true);
      expect(await kv.hDel(k, ["b", "c"])).toBe(2);
      expect(await kv.exists(k)).toBe(false);
      expect(await kv.hDel(k, ["b"])).toBe(0);
    });

    it("lists a hash's fields in byte order", async () => {
      const k = key("hash-order");
      await kv.hSet(k, { name: 1, age: 2, City: 3, é: 4, "a\u0000": 5, a: 6 });
      expect(Object.keys(await kv.hGetAll(k))).toEqual(["City", "a", "a\u0000", "age", "name", "é"]);
    });

    it("hash fields named like object internals are plain fields", async () => {
      const k = key("hash-proto");
      await kv.hSet(k, JSON.parse('{"__proto__": 1, "constructor": 2}') as Record<string, number>);
      const all = await kv.hGetAll(k);
      expect(Object.keys(all).sort()).toEqual(["__proto__", "constructor"]);
      expect(await kv.hGet(k, "__proto__")).toBe(1);
    });

    it("hincrby counts per field and keeps the hash's TTL", async () => {
      const k = key("hincr");
      expect(await kv.hIncrBy(k, "n", 5)).toBe(5);
      expect(await kv.hIncrBy(k, "n", -2)).toBe(3);
      await kv.expire(k, 1_000);
      await kv.hSet(k, { s: "x" });
      expect(await kv.hIncrBy(k, "n", 1)).toBe(4);
      expect(await kv.ttl(k)).toBe(1_000);
      expect(await code(kv.hIncrBy(k, "s", 1))).toBe("NOT_INTEGER");
      await kv.hSet(k, { big: Number.MAX_SAFE_INTEGER });
      expect(await code(kv.hIncrBy(k, "big", 1))).toBe("OVERFLOW");
      expect(await kv.hGet(k, "big")).toBe(Number.MAX_SAFE_INTEGER);
    });

    it("an expired hash is gone, and a new hash under its key starts empty", async () => {
      const k = key("hash-expired");
      await kv.hSet(k, { old: 1 });
      await kv.expire(k, 100);
      clock.advance(100);
      expect(await kv.hGetAll(k)).toEqual({});
      expect(await kv.hSet(k, { fresh: 1 })).toBe(1);
      expect(await kv.hGetAll(k)).toEqual({ fresh: 1 });
      expect(await kv.ttl(k)).toBe(-1);
    });

    it("counts a field of an expired hash as new, and writes over an expired string", async () => {
      const k = key("hash-expired-same");
      await kv.hSet(k, { f: 1, g: 2 });
      await kv.expire(k, 100);
      clock.advance(100);
      expect(await kv.hSet(k, { f: 3, h: 4 })).toBe(2);
      expect(await kv.hGetAll(k)).toEqual({ f: 3, h: 4 });
      await kv.expire(k, 100);
      clock.advance(100);
      expect(await kv.hIncrBy(k, "f", 5)).toBe(5);
      expect(await kv.hGetAll(k)).toEqual({ f: 5 });
      const s = key("string-expired");
      await kv.set(s, "v", { ttlMs: 100 });
      clock.advance(100);
      expect(await kv.hSet(s, { f: 1 })).toBe(1);
      expect(await kv.hGetAll(s)).toEqual({ f: 1 });
    });

    it("enforces types as Redis does", async () => {
      const s = key("type-string");
      const h = key("type-hash");
      await kv.set(s, "v");
      await kv.hSet(h, { f: 1 });
      expect(await code(kv.hSet(s, { f: 1 }))).toBe("WRONGTYPE");
      expect(await code(kv.hGet(s, "f"))).toBe("WRONGTYPE");
      expect(await code(kv.hGetAll(s))).toBe("WRONGTYPE");
      expect(await code(kv.hDel(s, ["f"]))).toBe("WRONGTYPE");
      expect(await code(kv.hIncrBy(s, "f", 1))).toBe("WRONGTYPE");
      expect(await code(kv.get(h))).toBe("WRONGTYPE");
      expect(await code(kv.incr(h))).toBe("WRONGTYPE");
      expect(await kv.get(s)).toBe("v");
      expect(await kv.hGetAll(h)).toEqual({ f: 1 });
      // set replaces a key of any type; the old hash's fields do not come back.
      expect(await kv.set(h, "now a string")).toBe(true);
      expect(await kv.get(h)).toBe("now a string");
      await kv.delete(h);
      await kv.hSet(h, { g: 2 });
      expect(await kv.hGetAll(h)).toEqual({ g: 2 });
    });

    it("mset writes every pair with one TTL, replacing types; mget answers only strings found", async () => {
      const a = key("m");
      const b = key("m");
      const h = key("m-hash");
      await kv.hSet(h, { f: 1 });
      expect(await kv.mSet({ [a]: 1, [b]: { x: [2] } }, { ttlMs: 1_000 })).toBe(true);
      expect(await kv.ttl(a)).toBe(1_000);
      expect(await kv.mGet([a, b, h, key("m-missing")])).toEqual({ [a]: 1, [b]: { x: [2] } });
      await kv.mSet({ [h]: "replaced" });
      expect(await kv.get(h)).toBe("replaced");
      expect(await kv.ttl(h)).toBe(-1);
    });

    it("lists keys by Redis glob pattern, in byte order, page by page", async () => {
      const p = key("glob");
      const names = ["a", "b", "c", "ab", "a*", "B", "é", "x?y", "hash"];
      for (const name of names) {
        if (name === "hash") await kv.hSet(`${p}:${name}`, { f: 1 });
        else await kv.set(`${p}:${name}`, 1);
      }
      await kv.set(`${p}:gone`, 1, { ttlMs: 10 });
      clock.advance(10);
      const list = async (pattern: string) =>
        (await kv.keys({ pattern: `${p}:${pattern}` })).keys.map((k) => k.slice(p.length + 1));
      expect(await list("*")).toEqual(["B", "a", "a*", "ab", "b", "c", "hash", "x?y", "é"]);
      expect(await list("?")).toEqual(["B", "a", "b", "c", "é"]);
      expect(await list("[ab]")).toEqual(["a", "b"]);
      expect(await list("[^a]")).toEqual(["B", "b", "c", "é"]);
      expect(await list("[a-c]")).toEqual(["a", "b", "c"]);
      expect(await list("a\\*")).toEqual(["a*"]);
      expect(await list("x\\?y")).toEqual(["x?y"]);
      expect(await list("a*")).toEqual(["a", "a*", "ab"]);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await kv.keys({ pattern: `${p}:*`, limit: 4, cursor });
        expect(page.keys.length).toBeLessThanOrEqual(4);
        seen.push(...page.keys);
        cursor = page.cursor;
        pages++;
      } while (cursor !== null);
      expect(pages).toBe(3);
      expect(seen.map((k) => k.slice(p.length + 1))).toEqual([
        "B",
        "a",
        "a*",
        "ab",
        "b",
        "c",
        "hash",
        "x?y",
        "é",
      ]);
      expect(await code(kv.keys({ cursor: "not a cursor" }))).toBe("BAD_REQUEST");
      expect(await code(kv.keys({ limit: 0 }))).toBe("BAD_REQUEST");
    });

    it("locks: one holder at a time, released only by its token, free after expiry", async () => {
      const k = key("lock");
      await kv.set(k, "a key of the same name is untouched");
      const first = await kv.lock(k, 1_000);
      expect(first.acquired).toBe(true);
      expect(first.token).toMatch(/^[0-9a-f]{32,}$/);
      expect(await kv.lock(k, 1_000)).toEqual({ acquired: false, token: null });
      expect(await kv.unlock(k, "wrong")).toBe(false);
      expect(await kv.extend(k, "wrong", 5_000)).toBe(false);
      expect(await kv.extend(k, first.token as string, 2_000)).toBe(true);
      clock.advance(1_500);
      expect((await kv.lock(k, 1_000)).acquired).toBe(false);
      expect(await kv.unlock(k, first.token as string)).toBe(true);
      expect(await kv.unlock(k, first.token as string)).toBe(false);
      const second = await kv.lock(k, 100);
      expect(second.acquired).toBe(true);
      expect(second.token).not.toBe(first.token);
      clock.advance(100);
      expect(await kv.unlock(k, second.token as string)).toBe(false);
      expect(await kv.extend(k, second.token as string, 100)).toBe(false);
      expect((await kv.lock(k, 100)).acquired).toBe(true);
      expect(await kv.get(k)).toBe("a key of the same name is untouched");
    });

    it("sweep deletes expired keys and locks and leaves live ones", async () => {
      const live = key("sweep-live");
      const dead = key("sweep-dead");
      await kv.set(live, 1);
      await kv.set(dead, 1, { ttlMs: 10 });
      await kv.hSet(`${dead}:h`, { f: 1 });
      await kv.expire(`${dead}:h`, 10);
      await kv.lock(`${dead}:lock`, 10);
      clock.advance(10);
      expect(await kv.sweep()).toBeGreaterThanOrEqual(3);
      expect(await kv.get(live)).toBe(1);
      expect(await kv.sweep()).toBe(0);
    });

    it("answers concurrent increments exactly", async () => {
      const k = key("concurrent");
      const answers = await Promise.all(Array.from({ length: 50 }, () => kv.incr(k)));
      expect(await kv.get(k)).toBe(50);
      // Each caller sees the value after its own step, as if they ran one after another.
      expect([...answers].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it("runs atomic sections over the same key one at a time: no read-modify-write is lost", async () => {
      const k = key("section");
      await kv.set(k, 0);
      await Promise.all(
        Array.from({ length: 20 }, () =>
          kv.atomic([k], async (tx) => {
            const n = (await tx.get(k)) as number;
            await new Promise((resolve) => setTimeout(resolve, 1));
            await tx.set(k, n + 1);
          }),
        ),
      );
      expect(await kv.get(k)).toBe(20);
    });

    it("keeps a single write of an existing key from landing inside an atomic section", async () => {
      const k = key("section-single");
      await kv.set(k, 10);
      let section: Promise<void> = Promise.resolve();
      const entered = new Promise<void>((inside) => {
        section = kv.atomic([k], async (tx) => {
          const n = (await tx.get(k)) as number;
          inside();
          await new Promise((resolve) => setTimeout(resolve, 30));
          await tx.set(k, n * 2);
        });
      });
      await entered;
      const increment = kv.incr(k);
      await Promise.all([section, increment]);
      // Either the section came first (10 * 2 + 1) or the increment did ((10 + 1) * 2): never 20.
      expect([21, 22]).toContain(await kv.get(k));
      expect(await increment).toBe((await kv.get(k)) === 21 ? 21 : 11);
    });

    it("answers an atomic section's result, and undoes its writes when it fails (SQL stores)", async () => {
      const k = key("section-fail");
      const answer = await kv.atomic([k], async (tx) => {
        await tx.set(k, "in");
        return "done";
      });
      expect(answer).toBe("done");
      expect(await kv.get(k)).toBe("in");
      await expect(
        kv.atomic([k], async (tx) => {
          await tx.set(k, "half");
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      if (kv.kind !== "memory") expect(await kv.get(k)).toBe("in");
    });

    it("gives each of concurrent increments its own answer or error, as Redis would", async () => {
      const near = key("near-max");
      const mixed = key("mixed");
      const word = key("word");
      const fresh = key("fresh");
      await kv.set(near, Number.MAX_SAFE_INTEGER - 2);
      await kv.set(mixed, 10);
      await kv.set(word, "abc");
      const results = await Promise.allSettled([
        kv.incr(near),
        kv.incrBy(fresh, 5),
        kv.incr(near),
        kv.incrBy(mixed, 5),
        kv.incr(word),
        kv.incr(near),
        kv.decr(mixed, 20),
        kv.incrBy(fresh, -7),
        kv.incrBy(mixed, 1),
      ]);
      const outcome = (r: PromiseSettledResult<number>) =>
        r.status === "fulfilled" ? r.value : (r.reason as { code: string }).code;
      expect(results.map(outcome)).toEqual([
        Number.MAX_SAFE_INTEGER - 1,
        5,
        Number.MAX_SAFE_INTEGER,
        15,
        "NOT_INTEGER",
        "OVERFLOW",
        -5,
        -2,
        -4,
      ]);
      expect(await kv.mGet([near, mixed, word, fresh])).toEqual({
        [near]: Number.MAX_SAFE_INTEGER,
        [mixed]: -4,
        [word]: "abc",
        [fresh]: -2,
      });
    });

    it("never loses a write that runs beside a failing hash write", async () => {
      const s = key("tx-string");
      await kv.set(s, "a string");
      const writes = Array.from({ length: 40 }, (_, i) => key(`tx-side-${i}`));
      // Each side write starts a little after a hash write that fails (and rolls back), so that it
      // lands while that transaction is open.
      const results = await Promise.allSettled(
        writes.flatMap((k, i) => [
          kv.hSet(s, { f: 1 }),
          (async () => {
            for (let spin = 0; spin < i % 5; spin++) await new Promise((resolve) => setImmediate(resolve));
            await kv.set(k, i);
            await kv.incr(`${k}:n`);
          })(),
        ]),
      );
      expect(results.filter((r) => r.status === "rejected")).toHaveLength(writes.length);
      expect(await kv.mGet(writes)).toEqual(Object.fromEntries(writes.map((k, i) => [k, i])));
      for (const k of writes) expect(await kv.get(`${k}:n`)).toBe(1);
    });

    it("runs concurrent batches over the same keys in any order without failing", async () => {
      const keys = Array.from({ length: 30 }, (_, i) => key(`mset-race-${i}`));
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) =>
          kv.mSet(Object.fromEntries((i % 2 ? [...keys].reverse() : keys).map((k) => [k, i]))),
        ),
      );
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
      const values = new Set(Object.values(await kv.mGet(keys)));
      expect(values.size).toBe(1);
    });

    it("grants a lock to exactly one of many concurrent callers", async () => {
      const k = key("lock-race");
      const results = await Promise.all(Array.from({ length: 20 }, () => kv.lock(k, 10_000)));
      expect(results.filter((r) => r.acquired)).toHaveLength(1);
    });
  });
}
