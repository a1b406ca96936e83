import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestError } from "../../src/core/errors.ts";
import type { JsonValue } from "../../src/core/types.ts";
import type { Store } from "../../src/stores/types.ts";
import { uniqueId } from "../helpers/harness.ts";

/** A backend under test: stores on one shared backend, and its time (when the test can move it). */
export interface StoreHarness {
  /** A store on the shared backend with this key prefix. */
  open(keyPrefix: string): Store;
  /** Moves the backend's clock; absent for backends on real time (Redis). */
  advance?: (ms: number) => void;
  close(): Promise<void>;
}

/**
 * The contract every `Store` backend passes. Each test works in its own fresh namespace, so the
 * backends can be shared by the whole suite.
 */
export function describeStoreContract(name: string, setup: () => Promise<StoreHarness>, skip = false): void {
  describe.skipIf(skip)(`Store contract: ${name}`, () => {
    let harness: StoreHarness;
    const opened: Store[] = [];
    const fresh = (prefix = `t${uniqueId()}:`): Store => {
      const store = harness.open(prefix);
      opened.push(store);
      return store;
    };

    beforeAll(async () => {
      harness = await setup();
    });
    afterAll(async () => {
      for (const store of opened) await store.clear().catch(() => 0);
      for (const store of opened) await store.close();
      await harness?.close();
    });

    it("round-trips every kind of JSON value", async () => {
      const store = fresh();
      const values = [
        "John",
        "",
        42,
        -1.5,
        true,
        false,
        [1, "two", null],
        { a: { b: [true] } },
        'emoji 🎉 "q" %_',
      ];
      for (const [i, value] of values.entries()) await store.set(`k${i}`, value);
      for (const [i, value] of values.entries()) expect(await store.get(`k${i}`)).toEqual(value);
    });

    it("refuses keys and values the server would refuse, writing nothing", async () => {
      const store = fresh();
      await expect(store.set("k".repeat(300), 1)).rejects.toMatchObject({ code: "INVALID_KEY" });
      await expect(store.set("big", "x".repeat(1_048_577))).rejects.toMatchObject({
        code: "VALUE_TOO_LARGE",
      });
      await expect(
        store.setMany(
          new Map<string, JsonValue>([
            ["ok", 1],
            ["k".repeat(300), 2],
          ]),
        ),
      ).rejects.toMatchObject({ code: "INVALID_KEY" });
      expect(await store.get("big")).toBeUndefined();
      expect(await store.get("ok")).toBeUndefined();
    });

    it("refuses numbers JSON cannot hold instead of storing null", async () => {
      const store = fresh();
      for (const value of [Number.NaN, Number.POSITIVE_INFINITY, { nested: [Number.NEGATIVE_INFINITY] }]) {
        await expect(store.set("nan", value as JsonValue)).rejects.toMatchObject({ code: "BAD_REQUEST" });
      }
      expect(await store.get("nan")).toBeUndefined();
    });

    it("tells a missing key (undefined) from a stored null", async () => {
      const store = fresh();
      await store.set("null", null);
      expect(await store.get("null")).toBeNull();
      expect(await store.get("missing")).toBeUndefined();
    });

    it("replaces on set and reports whether delete removed a key", async () => {
      const store = fresh();
      await store.set("k", 1);
      await store.set("k", { v: 2 });
      expect(await store.get("k")).toEqual({ v: 2 });
      expect(await store.delete("k")).toBe(true);
      expect(await store.delete("k")).toBe(false);
      expect(await store.get("k")).toBeUndefined();
    });

    it("reads and writes many keys at once, leaving out the missing ones", async () => {
      const store = fresh();
      await store.setMany(
        new Map<string, null | number>([
          ["a", 1],
          ["b", null],
        ]),
      );
      const found = await store.getMany(["a", "b", "c", "a"]);
      expect([...found.entries()].sort()).toEqual([
        ["a", 1],
        ["b", null],
      ]);
      expect(await store.getMany([])).toEqual(new Map());
    });

    it("expires keys at their TTL, and 0 means never", async (ctx) => {
      if (harness.advance === undefined) return ctx.skip();
      const store = fresh();
      await store.set("short", "v", 1_000);
      await store.set("forever", "v", 0);
      await store.setMany(new Map([["batch", "v"]]), 1_000);
      await store.set("none", "v");
      harness.advance(999);
      expect(await store.get("short")).toBe("v");
      expect((await store.getMany(["batch"])).get("batch")).toBe("v");
      harness.advance(1);
      expect(await store.get("short")).toBeUndefined();
      expect(await store.getMany(["batch"])).toEqual(new Map());
      expect((await store.list("")).keys).toEqual(["forever", "none"]);
      harness.advance(10 * 365 * 86_400_000);
      expect(await store.get("forever")).toBe("v");
      expect(await store.get("none")).toBe("v");
    });

    it("rejects a negative or fractional TTL", async () => {
      const store = fresh();
      await expect(store.set("k", 1, -5)).rejects.toBeInstanceOf(BadRequestError);
      await expect(store.set("k", 1, 1.5)).rejects.toBeInstanceOf(BadRequestError);
      expect(await store.get("k")).toBeUndefined();
    });

    it("lists keys by prefix in byte order, page by page, each exactly once", async () => {
      const store = fresh();
      const keys = ["user:b", "user:a", "user:é", "user:Z", "user:10", "user:1", "other:x", "use"];
      for (const key of keys) await store.set(key, key);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Awaited<ReturnType<Store["list"]>> = await store.list("user:", { cursor, limit: 2 });
        expect(page.keys.length).toBeLessThanOrEqual(2);
        seen.push(...page.keys);
        cursor = page.cursor;
        pages++;
      } while (cursor !== null);
      expect(seen).toEqual(["user:1", "user:10", "user:Z", "user:a", "user:b", "user:é"]);
      expect(pages).toBe(3);
      expect((await store.list("")).keys).toHaveLength(keys.length);
      expect(await store.list("nothing:")).toEqual({ keys: [], cursor: null });
    });

    it("takes the list prefix literally, escaping glob characters", async () => {
      const store = fresh();
      for (const key of ["a*b:1", "aXb:1", "q?:1", "qq:1", "[x]:1", "x:1", "back\\slash:1", "backslash:1"]) {
        await store.set(key, 1);
      }
      expect((await store.list("a*b")).keys).toEqual(["a*b:1"]);
      expect((await store.list("q?")).keys).toEqual(["q?:1"]);
      expect((await store.list("[x]")).keys).toEqual(["[x]:1"]);
      expect((await store.list("back\\")).keys).toEqual(["back\\slash:1"]);
    });

    it("namespaces every key by keyPrefix, and clear() empties only its own namespace", async () => {
      const base = `ns${uniqueId()}:`;
      const a = fresh(`${base}a:`);
      const b = fresh(`${base}b:`);
      const parent = fresh(base);
      await a.set("k", "from a");
      await b.set("k", "from b");
      await b.set("other", 2);
      expect(await a.get("k")).toBe("from a");
      expect((await a.list("")).keys).toEqual(["k"]);
      expect((await parent.list("")).keys).toEqual(["a:k", "b:k", "b:other"]);
      expect(await a.clear()).toBe(1);
      expect(await a.get("k")).toBeUndefined();
      expect(await b.get("k")).toBe("from b");
      expect((await b.list("")).keys).toEqual(["k", "other"]);
    });

    it("locks exclusively, and a stale or foreign token releases nothing", async () => {
      const store = fresh();
      const token = await store.lock("job", 60_000);
      expect(token).toEqual(expect.any(String));
      expect(await store.lock("job", 60_000)).toBeNull();
      expect(await store.unlock("job", "not-the-token")).toBe(false);
      expect(await store.lock("job", 60_000)).toBeNull();
      expect(await store.unlock("job", token as string)).toBe(true);
      expect(await store.unlock("job", token as string)).toBe(false);
      const again = await store.lock("job", 60_000);
      expect(again).not.toBeNull();
      expect(again).not.toBe(token);
      expect(await store.unlock("job", again as string)).toBe(true);
    });

    it("keeps locks apart from keys and from other namespaces", async () => {
      const store = fresh();
      const other = fresh();
      const mine = await store.lock("x", 60_000);
      const theirs = await other.lock("x", 60_000);
      expect(mine).not.toBeNull();
      expect(theirs).not.toBeNull();
      expect(await store.get("x")).toBeUndefined();
      expect((await store.list("")).keys).toEqual([]);
      expect(await store.unlock("x", mine as string)).toBe(true);
      expect(await other.unlock("x", theirs as string)).toBe(true);
    });

    it("frees a lock at its TTL", async (ctx) => {
      if (harness.advance === undefined) return ctx.skip();
      const store = fresh();
      const token = await store.lock("job", 1_000);
      harness.advance(1_000);
      const next = await store.lock("job", 1_000);
      expect(next).not.toBeNull();
      expect(await store.unlock("job", token as string)).toBe(false);
      expect(await store.lock("job", 1_000)).toBeNull();
    });
  });
}
