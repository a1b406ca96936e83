import { describe, expect, it } from "vitest";
import { Batcher, Coalescer } from "../../src/engine/coalesce.ts";

describe("Coalescer", () => {
  it("answers loads of the same turn with one call, each caller its own value", async () => {
    const calls: string[][] = [];
    const c = new Coalescer<string>(async (keys) => {
      calls.push(keys);
      return new Map(keys.map((k) => [k, `v:${k}`]));
    });
    const answers = await Promise.all([c.load("a"), c.load("b"), c.load("a")]);
    expect(answers).toEqual(["v:a", "v:b", "v:a"]);
    expect(calls).toEqual([["a", "b"]]);
    expect(await c.load("c")).toBe("v:c");
    expect(calls).toEqual([["a", "b"], ["c"]]);
  });

  it("splits a large turn into calls of at most max keys", async () => {
    const sizes: number[] = [];
    const c = new Coalescer<number>(async (keys) => {
      sizes.push(keys.length);
      return new Map(keys.map((k) => [k, Number(k)]));
    }, 10);
    const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => c.load(String(i))));
    expect(answers).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(sizes).toEqual([10, 10, 5]);
  });

  it("fails only the callers of the call that failed, with its error", async () => {
    const c = new Coalescer<string>(async (keys) => {
      if (keys.includes("bad")) throw new Error("down");
      return new Map(keys.map((k) => [k, k]));
    }, 1);
    const [bad, good] = await Promise.allSettled([c.load("bad"), c.load("good")]);
    expect(bad).toMatchObject({ status: "rejected", reason: { message: "down" } });
    expect(good).toEqual({ status: "fulfilled", value: "good" });
  });
});

describe("Batcher", () => {
  it("writes the items of one turn in one call, acknowledging each after it", async () => {
    const calls: number[][] = [];
    let committed = false;
    const b = new Batcher<number, undefined>(async (items) => {
      calls.push(items);
      await new Promise((resolve) => setTimeout(resolve, 5));
      committed = true;
      return items.map(() => ({ ok: true, value: undefined }));
    });
    const acks = [1, 2, 3].map((n) => b.add(n).then(() => committed));
    expect(await Promise.all(acks)).toEqual([true, true, true]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it("rejects every item of a failed call with its error, and only those", async () => {
    const b = new Batcher<string, string>(async (items) => {
      if (items.includes("bad")) throw new Error("refused");
      return items.map((value) => ({ ok: true, value }));
    }, 2);
    const results = await Promise.allSettled(["bad", "x", "y"].map((item) => b.add(item)));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "fulfilled"]);
  });

  it("settles each item with the outcome the call answered for it", async () => {
    const b = new Batcher<number, number>(async (items) =>
      items.map((n) =>
        n < 0 ? { ok: false, error: new Error(`negative ${n}`) } : { ok: true, value: n * 2 },
      ),
    );
    const results = await Promise.allSettled([1, -1, 3].map((n) => b.add(n)));
    expect(results).toEqual([
      { status: "fulfilled", value: 2 },
      { status: "rejected", reason: new Error("negative -1") },
      { status: "fulfilled", value: 6 },
    ]);
  });
});
