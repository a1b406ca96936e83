import { describe, expect, it } from "vitest";
import { formatSyncToken, mergeSyncTokens, parseSyncToken } from "../../src/core/sync-token.ts";
import { Engine } from "../../src/engine/engine.ts";
import { MemoryStore } from "../../src/engine/memory-store.ts";
import { fakeClock } from "../helpers/databases.ts";

describe("sync tokens (SPEC §8)", () => {
  it("read back what they print, and ignore anything else", () => {
    for (const token of [
      { ms: 0, seq: 0 },
      { ms: 1_764_700_000_123, seq: 7 },
      { ms: 5, seq: 1, instance: "k3j4h5g6" },
    ]) {
      expect(parseSyncToken(formatSyncToken(token))).toEqual(token);
    }
    for (const junk of [
      undefined,
      null,
      "",
      " ",
      "abc",
      "1",
      "1-",
      "-1-2",
      "1-2-UPPER",
      "1.5-2",
      `${"9".repeat(16)}-0`,
    ]) {
      expect(parseSyncToken(junk)).toBeUndefined();
    }
  });

  it("merge to the later point, naming an instance only when both name the same one", () => {
    const a1 = { ms: 10, seq: 0, instance: "a" };
    const a2 = { ms: 10, seq: 3, instance: "a" };
    const b = { ms: 20, seq: 0, instance: "b" };
    expect(mergeSyncTokens(a1, a2)).toEqual(a2);
    expect(mergeSyncTokens(a2, a1)).toEqual(a2);
    expect(mergeSyncTokens(a1, b)).toEqual({ ms: 20, seq: 0 });
    expect(mergeSyncTokens(b, { ms: 10, seq: 0 })).toEqual({ ms: 20, seq: 0 });
    expect(mergeSyncTokens(undefined, b)).toEqual(b);
    expect(mergeSyncTokens(a1, undefined)).toEqual(a1);
  });
});

describe("Engine's sync tokens", () => {
  it("change on every write and stand for it; L1 answers a token only with what was read after it", async () => {
    const clock = fakeClock();
    const store = new MemoryStore({ clock });
    const a = new Engine(store, { clock, syncSkewMs: 100 });
    const b = new Engine(store, { clock, syncSkewMs: 100 });
    await b.write(["k"], () => store.set("k", "old"));
    await b.read("k");
    expect((await b.read("k")).hit).toBe(true);

    const before = a.syncToken();
    await a.write(["k"], () => store.set("k", "new"));
    const written = a.syncToken();
    await a.write(["k"], () => store.set("k", "new"));
    expect(written).not.toEqual(before);
    expect(a.syncToken()).not.toEqual(written);
    expect(written.instance).toBe(a.instance);

    // Without the token B answers from L1; with it, from the store, and keeps answering so
    // until what it read lies past the token by more than the clock skew.
    expect((await b.read("k")).value).toMatchObject({ kind: "string" });
    const stale = await b.read("k");
    expect(stale.hit).toBe(true);
    const after = b.readAfter(written);
    expect(after).toBe(written.ms + 100);
    const fresh = await b.read("k", "none", { after });
    expect(fresh.hit).toBe(false);
    expect(await b.read("k", "none", { after })).toMatchObject({ hit: false });
    clock.advance(101);
    await b.read("k", "none", { after });
    expect(await b.read("k", "none", { after })).toMatchObject({ hit: true });

    // A's own token leaves A's L1 alone: it holds A's writes.
    expect(a.readAfter(a.syncToken())).toBeUndefined();
    expect(a.readAfter(undefined)).toBeUndefined();
    // B answers with a token standing for A's writes and its own.
    expect(b.syncToken(written)).toEqual({ ms: written.ms, seq: written.seq });
  });
});
