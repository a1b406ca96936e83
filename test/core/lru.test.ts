import { describe, expect, it } from "vitest";
import { LruMap } from "../../src/core/lru.ts";

describe("LruMap", () => {
  it("drops the least recently used entry past its bound; setting and touching count as uses", () => {
    const evicted: string[] = [];
    const lru = new LruMap<number>(3, (key, value) => evicted.push(`${key}=${value}`));
    lru.set("a", 1);
    lru.set("b", 2);
    lru.set("c", 3);
    expect(lru.touch("a")).toBe(true);
    lru.set("b", 20);
    lru.set("d", 4);
    expect(evicted).toEqual(["c=3"]);
    lru.set("e", 5);
    expect(evicted).toEqual(["c=3", "a=1"]);
    expect([lru.peek("b"), lru.peek("d"), lru.peek("e"), lru.size]).toEqual([20, 4, 5, 3]);
  });

  it("leaves recency alone on peek, and forgets deleted and cleared keys", () => {
    const evicted: string[] = [];
    const lru = new LruMap<number>(2, (key) => evicted.push(key));
    lru.set("a", 1);
    lru.set("b", 2);
    expect(lru.peek("a")).toBe(1);
    lru.set("c", 3);
    expect(evicted).toEqual(["a"]);
    expect(lru.delete("b")).toBe(true);
    expect(lru.delete("b")).toBe(false);
    expect(lru.touch("b")).toBe(false);
    lru.set("d", 4);
    expect(evicted).toEqual(["a"]);
    lru.clear();
    expect([lru.size, lru.peek("c"), lru.peek("d")]).toEqual([0, undefined, undefined]);
    lru.set("e", 5);
    lru.set("f", 6);
    lru.set("g", 7);
    expect(evicted).toEqual(["a", "e"]);
  });

  it("keeps order through many uses of one hot key among many", () => {
    const evicted: string[] = [];
    const lru = new LruMap<number>(1000, (key) => evicted.push(key));
    for (let i = 0; i < 1000; i++) lru.set(`k${i}`, i);
    for (let i = 0; i < 10_000; i++) lru.touch("k0");
    lru.set("new", 1);
    expect(evicted).toEqual(["k1"]);
    expect(lru.peek("k0")).toBe(0);
  });
});
