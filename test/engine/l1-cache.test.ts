import { describe, expect, it } from "vitest";
import { L1Cache } from "../../src/engine/l1-cache.ts";
import { fakeClock } from "../helpers/databases.ts";

function cache(options: { ttlMs?: number; maxEntries?: number } = {}) {
  const clock = fakeClock();
  const l1 = new L1Cache<string>({
    ttlMs: options.ttlMs ?? 5_000,
    maxEntries: options.maxEntries ?? 3,
    clock,
  });
  return { l1, clock };
}

describe("L1Cache", () => {
  it("answers what a read filled until the L1 TTL runs out", () => {
    const { l1, clock } = cache();
    l1.fill("k", "v", l1.ticket(), null);
    expect(l1.get("k")).toBe("v");
    clock.advance(4_999);
    expect(l1.get("k")).toBe("v");
    clock.advance(1);
    expect(l1.get("k")).toBeUndefined();
  });

  it("never answers past the key's own expiry, even within the L1 TTL", () => {
    const { l1, clock } = cache();
    l1.fill("k", "v", l1.ticket(), clock.now() + 100);
    clock.advance(99);
    expect(l1.get("k")).toBe("v");
    clock.advance(1);
    expect(l1.get("k")).toBeUndefined();
  });

  it("evicts the least recently used entry first; a hit counts as a use", () => {
    const { l1 } = cache({ maxEntries: 2 });
    l1.fill("a", "1", l1.ticket(), null);
    l1.fill("b", "2", l1.ticket(), null);
    expect(l1.get("a")).toBe("1");
    l1.fill("c", "3", l1.ticket(), null);
    expect(l1.size).toBe(2);
    expect(l1.get("b")).toBeUndefined();
    expect(l1.get("a")).toBe("1");
    expect(l1.get("c")).toBe("3");
  });

  it("refuses a fill from a read that began before a write of the key", () => {
    const { l1 } = cache();
    const ticket = l1.ticket();
    l1.write("k", undefined);
    l1.fill("k", "stale", ticket, null);
    expect(l1.get("k")).toBeUndefined();
    l1.fill("k", "fresh", l1.ticket(), null);
    expect(l1.get("k")).toBe("fresh");
  });

  it("refuses a fill older than a write whose entry was evicted meanwhile", () => {
    const { l1 } = cache({ maxEntries: 1 });
    const ticket = l1.ticket();
    l1.write("k", undefined);
    l1.fill("other", "x", l1.ticket(), null);
    // "k"'s tombstone is gone; without the eviction record this stale fill would land.
    l1.fill("k", "stale", ticket, null);
    expect(l1.get("k")).toBeUndefined();
  });

  it("keeps a written value as the entry, and a tombstone as no entry", () => {
    const { l1 } = cache();
    l1.write("k", "new");
    expect(l1.get("k")).toBe("new");
    l1.write("k", undefined);
    expect(l1.get("k")).toBeUndefined();
  });

  it("keeps nothing when its TTL or its size is 0", () => {
    for (const options of [{ ttlMs: 0 }, { maxEntries: 0 }]) {
      const { l1 } = cache(options);
      expect(l1.enabled).toBe(false);
      l1.fill("k", "v", l1.ticket(), null);
      l1.write("w", "v");
      expect(l1.get("k")).toBeUndefined();
      expect(l1.get("w")).toBeUndefined();
      expect(l1.size).toBe(0);
    }
  });
});
