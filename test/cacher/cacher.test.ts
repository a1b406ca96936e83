import { describe, expect, it, vi } from "vitest";
import { type CacherOptions, createCacher } from "../../src/cacher/index.ts";
import { UnavailableError } from "../../src/core/errors.ts";
import type { JsonValue } from "../../src/core/types.ts";
import { MemoryStore } from "../../src/engine/memory-store.ts";
import { createMemoryStore } from "../../src/stores/memory.ts";
import type { Store } from "../../src/stores/types.ts";
import { fakeClock } from "../helpers/databases.ts";

/** A memory store and cachers on one fake clock: freshness and the store's TTLs move together. */
function setup() {
  const clock = fakeClock();
  const store = createMemoryStore({ clock, keyPrefix: "cache:" });
  const cacherOn = (on: Store, options: CacherOptions = {}) => createCacher(on, { clock, ...options });
  return { clock, store, cacherOn };
}

/** A promise the test settles by hand, to hold a fallback open while more calls arrive. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A store that fails every operation while `down` is set: the cacher's chaos wrapper. */
function flaky(inner: Store): Store & { down: boolean } {
  const wrapper = { down: false } as Store & { down: boolean };
  for (const name of [
    "get",
    "getMany",
    "set",
    "setMany",
    "delete",
    "list",
    "clear",
    "lock",
    "unlock",
  ] as const) {
    (wrapper as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      if (wrapper.down) return Promise.reject(new UnavailableError("store down"));
      return (inner[name] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    };
  }
  Object.assign(wrapper, { name: "flaky", close: () => inner.close() });
  return wrapper;
}

describe("cacher.get", () => {
  it("loads a missing key once and then serves it from the store", async () => {
    const { store, cacherOn } = setup();
    const cacher = cacherOn(store, { ttlMs: 10_000 });
    const fallback = vi.fn(async (key: string) => ({ id: key }));
    expect(await cacher.get("user:1", fallback)).toEqual({ id: "user:1" });
    expect(await cacher.get("user:1", fallback)).toEqual({ id: "user:1" });
    expect(fallback).toHaveBeenCalledTimes(1);
    expect(fallback).toHaveBeenCalledWith("user:1");
    expect((await store.list("")).keys).toEqual(["user:1"]);
  });

  it("reloads after the TTL, and a per-call TTL overrides the default", async () => {
    const { clock, store, cacherOn } = setup();
    const cacher = cacherOn(store, { ttlMs: 10_000 });
    let version = 0;
    const fallback = async () => ++version;
    expect(await cacher.get("a", fallback)).toBe(1);
    expect(await cacher.get("b", fallback, { ttlMs: 1_000 })).toBe(2);
    clock.advance(999);
    expect(await cacher.get("a", fallback)).toBe(1);
    expect(await cacher.get("b", fallback)).toBe(2);
    clock.advance(1);
    expect(await cacher.get("b", fallback)).toBe(3);
    expect(await cacher.get("a", fallback)).toBe(1);
    clock.advance(9_000);
    expect(await cacher.get("a", fallback)).toBe(4);
  });

  it("caches a null value, but not a 'not found' unless asked to", async () => {
    const { clock, store, cacherOn } = setup();
    const cacher = cacherOn(store, { ttlMs: 10_000 });
    const nullish = vi.fn(async (): Promise<JsonValue | undefined> => null);
    expect(await cacher.get("n", nullish)).toBeNull();
    expect(await cacher.get("n", nullish)).toBeNull();
    expect(nullish).toHaveBeenCalledTimes(1);

    const missing = vi.fn(async (): Promise<JsonValue | undefined> => undefined);
    expect(await cacher.get("m", missing)).toBeUndefined();
    expect(await cacher.get("m", missing)).toBeUndefined();
    expect(missing).toHaveBeenCalledTimes(2);

    expect(await cacher.get("m2", missing, { notFoundTtlMs: 500 })).toBeUndefined();
    expect(await cacher.get("m2", missing)).toBeUndefined();
    expect(missing).toHaveBeenCalledTimes(3);
    clock.advance(500);
    expect(await cacher.get("m2", missing)).toBeUndefined();
    expect(missing).toHaveBeenCalledTimes(4);
  });

  it("coalesces 100 concurrent gets of a missing key into one fallback call", async () => {
    const { store, cacherOn } = setup();
    const cacher = cacherOn(store);
    const gate = deferred<string>();
    const fallback = vi.fn(() => gate.promise);
    const reads = Array.from({ length: 100 }, () => cacher.get("hot", fallback));
    gate.resolve("value");
    expect(new Set(await Promise.all(reads))).toEqual(new Set(["value"]));
    expect(fallback).toHaveBeenCalledTimes(1);
  });

  it("leaves no cache entry when the fallback fails, and tries again next time", async () => {
    const { store, cacherOn } = setup();
    const cacher = cacherOn(store);
    const boom = new Error("source down");
    const failing = vi.fn(async () => {
      throw boom;
    });
    const reads = Array.from({ length: 5 }, () => cacher.get("k", failing));
    for (const read of reads) await expect(read).rejects.toBe(boom);
    expect(failing).toHaveBeenCalledTimes(1);
    expect(await store.get("k")).toBeUndefined();
    expect((await store.list("")).keys).toEqual([]);
    expect(await cacher.get("k", async () => "ok")).toBe("ok");
  });

  it("ignores entries in the store that it did not write", async () => {
    const { store, cacherOn } = setup();
    await store.set("k", "written by someone else");
    const cacher = cacherOn(store);
    expect(await cacher.get("k", async () => "loaded")).toBe("loaded");
  });
});

describe("cacher.mget", () => {
  it("calls the batch fallback once with exactly the missing keys", async () => {
    const { store, cacherOn } = setup();
    const cacher = cacherOn(store);
    await cacher.mget(["a", "c"], async (keys) => Object.fromEntries(keys.map((k) => [k, `${k}0`])));
    const batch = vi.fn(async (keys: string[]) => new Map(keys.map((k) => [k, `${k}1`])));
    const values = await cacher.mget(["a", "b", "c", "d", "b"], batch);
    expect(batch).toHaveBeenCalledTimes(1);
    expect(batch).toHaveBeenCalledWith(["b", "d"]);
    expect(values).toEqual(
      new Map([
        ["a", "a0"],
        ["b", "b1"],
        ["c", "c0"],
        ["d", "d1"],
      ]),
    );
    await cacher.mget(["a", "b", "c", "d"], batch);
    expect(batch).toHaveBeenCalledTimes(1);
  });

  it("leaves out keys the fallback did not find, and ignores keys it was not asked for", async () => {
    const { store, cacherOn } = setup();
    const cacher = cacherOn(store);
    const values = await cacher.mget(["x", "y"], async () => ({ x: 1, z: 3 }));
    expect(values).toEqual(new Map([["x", 1]]));
    expect((await store.list("")).keys).toEqual(["x"]);
  });

  it("joins loads already under way instead of asking for their keys again", async () => {
    const { store, cacherOn } = setup();
    const cacher = cacherOn(store);
    const gate = deferred<string>();
    const single = cacher.get("x", () => gate.promise);
    const batch = vi.fn(async (keys: string[]) => new Map(keys.map((k) => [k, k.toUpperCase()])));
    const many = cacher.mget(["x", "y"], batch);
    gate.resolve("from get");
    expect(await many).toEqual(
      new Map([
        ["x", "from get"],
        ["y", "Y"],
      ]),
    );
    expect(await single).toBe("from get");
    expect(batch).toHaveBeenCalledWith(["y"]);
  });

  it("caches nothing of a batch whose fallback fails", async () => {
    const { store, cacherOn } = setup();
    const cacher = cacherOn(store);
    await expect(cacher.mget(["a", "b"], async () => Promise.reject(new Error("nope")))).rejects.toThrow(
      "nope",
    );
    expect((await store.list("")).keys).toEqual([]);
  });
});

describe("cacher.mdelete and mrefresh", () => {
  it("mdelete makes the next read load afresh", async () => {
    const { store, cacherOn } = setup();
    const cacher = cacherOn(store);
    let n = 0;
    const batch = async (keys: string[]) => new Map(keys.map((k) => [k, ++n]));
    await cacher.mget(["a", "b"], batch);
    await cacher.mdelete(["a"]);
    expect(await cacher.mget(["a", "b"], batch)).toEqual(
      new Map([
        ["a", 3],
        ["b", 2],
      ]),
    );
  });

  it("mdelete wins over a load already under way: later reads load afresh and nothing old comes back", async () => {
    const { store, cacherOn } = setup();
    const cacher = cacherOn(store);
    const gate = deferred<string>();
    const old = cacher.get("u", () => gate.promise);
    await new Promise((resolve) => setImmediate(resolve));
    await cacher.mdelete(["u"]);
    const fresh = vi.fn(async () => "new");
    const after = cacher.get("u", fresh);
    gate.resolve("old");
    expect(await old).toBe("old");
    expect(await after).toBe("new");
    expect(fresh).toHaveBeenCalledTimes(1);
    expect(await cacher.get("u", fresh)).toBe("new");
    expect(fresh).toHaveBeenCalledTimes(1);
  });

  it("mrefresh reloads cached keys and stores the new values", async () => {
    const { store, cacherOn } = setup();
    const cacher = cacherOn(store);
    await cacher.get("a", async () => "old");
    const batch = vi.fn(async (keys: string[]) => new Map(keys.map((k) => [k, "new"])));
    expect(await cacher.mrefresh(["a"], batch)).toEqual(new Map([["a", "new"]]));
    expect(batch).toHaveBeenCalledWith(["a"]);
    expect(await cacher.get("a", async () => "unused")).toBe("new");
  });
});

describe("grace", () => {
  it("serves the last value when the fallback fails, within the bounded age only", async () => {
    const { clock, store, cacherOn } = setup();
    const cacher = cacherOn(store, { ttlMs: 1_000, grace: { maxAgeMs: 5_000 } });
    await cacher.get("k", async () => "v1");
    clock.advance(1_000 + 5_000);
    const failing = async (): Promise<string> => {
      throw new Error("source down");
    };
    expect(await cacher.get("k", failing)).toBe("v1");
    clock.advance(1);
    await expect(cacher.get("k", failing)).rejects.toThrow("source down");
  });

  it("without grace, a stale value is never served", async () => {
    const { clock, store, cacherOn } = setup();
    const cacher = cacherOn(store, { ttlMs: 1_000 });
    await cacher.get("k", async () => "v1");
    clock.advance(1_000);
    await expect(cacher.get("k", () => Promise.reject(new Error("down")))).rejects.toThrow("down");
  });

  it("serves this process's last value when the store fails, without calling the fallback", async () => {
    const { clock, store, cacherOn } = setup();
    const chaos = flaky(store);
    const errors: string[] = [];
    const cacher = cacherOn(chaos, {
      ttlMs: 1_000,
      grace: { maxAgeMs: 5_000 },
      onError: (_e, c) => errors.push(c.operation),
    });
    await cacher.get("k", async () => "v1");
    chaos.down = true;
    clock.advance(3_000);
    const fallback = vi.fn(async () => "v2");
    expect(await cacher.get("k", fallback)).toBe("v1");
    expect(fallback).not.toHaveBeenCalled();
    expect(errors).toContain("read");
    clock.advance(3_001);
    expect(await cacher.get("k", fallback)).toBe("v2");
  });

  it("without grace, a failing store falls through to the fallback", async () => {
    const { store, cacherOn } = setup();
    const chaos = flaky(store);
    const cacher = cacherOn(chaos);
    chaos.down = true;
    expect(await cacher.get("k", async () => "from source")).toBe("from source");
  });
});

describe("distributed: true within one process", () => {
  it("lets one of several cachers on one store load a key, the others wait for it", async () => {
    const shared = new MemoryStore();
    const cachers = Array.from({ length: 3 }, () =>
      createCacher(createMemoryStore({ store: shared, keyPrefix: "c:" }), {
        distributed: { pollMs: 1, maxPollMs: 5 },
      }),
    );
    const gate = deferred<string>();
    const fallback = vi.fn(() => gate.promise);
    const reads = cachers.flatMap((c) => Array.from({ length: 10 }, () => c.get("k", fallback)));
    // Let every cacher reach its lock attempt before the loader finishes.
    await new Promise((resolve) => setTimeout(resolve, 20));
    gate.resolve("v");
    expect(new Set(await Promise.all(reads))).toEqual(new Set(["v"]));
    expect(fallback).toHaveBeenCalledTimes(1);
  });

  it("a failed load releases the lock, so a waiting instance loads instead", async () => {
    const shared = new MemoryStore();
    const open = () =>
      createCacher(createMemoryStore({ store: shared, keyPrefix: "c:" }), {
        distributed: { pollMs: 1, maxPollMs: 5 },
      });
    const [a, b] = [open(), open()];
    const gate = deferred<string>();
    const first = a.get("k", () => gate.promise);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = b.get("k", async () => "from b");
    gate.reject(new Error("a failed"));
    await expect(first).rejects.toThrow("a failed");
    expect(await second).toBe("from b");
  });
});
