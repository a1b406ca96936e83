import { describe, expect, it } from "vitest";
import { CachedStore } from "../../src/commands/cached-store.ts";
import type { JsonValue, SetOptions } from "../../src/core/types.ts";
import { MemoryStore } from "../../src/engine/memory-store.ts";
import type { FieldSelection, Snapshot } from "../../src/engine/types.ts";
import { fakeClock } from "../helpers/databases.ts";

/** A memory store whose writes take time, and whose reads can be held at a gate after reading. */
class SlowStore extends MemoryStore {
  gate: Promise<void> | undefined;
  writeTakes = 0;
  constructor(
    private readonly tick: (ms: number) => void,
    clock: { now(): number },
  ) {
    super({ clock });
  }
  override async set(key: string, value: JsonValue, options?: SetOptions): Promise<boolean> {
    const done = await super.set(key, value, options);
    this.tick(this.writeTakes);
    return done;
  }
  override async inspect(key: string, fields?: FieldSelection): Promise<Snapshot> {
    const snapshot = await super.inspect(key, fields);
    if (this.gate !== undefined) await this.gate;
    return snapshot;
  }
}

describe("CachedStore", () => {
  it("never serves a key past its expiry, however long the write took", async () => {
    const clock = fakeClock();
    const inner = new SlowStore(clock.advance, clock);
    const cached = new CachedStore(inner, { clock, ttlMs: 5_000 });
    inner.writeTakes = 20;
    await cached.set("k", "v", { ttlMs: 100 });
    clock.advance(85);
    expect(await inner.ttl("k")).toBe(-2);
    const read = await cached.engine.read("k");
    expect(read.value.kind).toBe("none");
  });

  it("reads its own write even when the written entry was evicted during an older read", async () => {
    const clock = fakeClock();
    const inner = new SlowStore(clock.advance, clock);
    const cached = new CachedStore(inner, { clock, maxEntries: 1 });
    await inner.set("a", "old");
    let open!: () => void;
    inner.gate = new Promise((resolve) => {
      open = resolve;
    });
    const slowRead = cached.get("a");
    await new Promise((resolve) => setImmediate(resolve));
    inner.gate = undefined;
    await cached.set("a", "new");
    await cached.get("b");
    open();
    expect(await slowRead).toBe("old");
    expect(await cached.get("a")).toBe("new");
  });

  it("hands out copies, so a caller cannot change what L1 serves", async () => {
    const cached = new CachedStore(new MemoryStore());
    await cached.set("obj", { n: 1 });
    const first = (await cached.get("obj")) as { n: number };
    first.n = 999;
    expect(await cached.get("obj")).toEqual({ n: 1 });
    await cached.hSet("h", { f: { n: 1 } });
    const all = await cached.hGetAll("h");
    (all.f as { n: number }).n = 999;
    expect(await cached.hGet("h", "f")).toEqual({ n: 1 });
  });
});
