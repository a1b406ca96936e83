import { describe, expect, it } from "vitest";
import { CachedStore } from "../../src/commands/cached-store.ts";
import { openPrismaStore } from "../../src/engine/sql/open.ts";
import { dropPgSchema, freshPgUrl, PG_URL, tempSqlite } from "../helpers/databases.ts";
import { storeContract } from "./contract.ts";

storeContract("PrismaStore on SQLite", (clock) => {
  const db = tempSqlite();
  return { store: openPrismaStore({ url: db.url, clock }), cleanup: db.remove };
});

storeContract("CachedStore over PrismaStore on SQLite", (clock) => {
  const db = tempSqlite();
  return { store: new CachedStore(openPrismaStore({ url: db.url, clock }), { clock }), cleanup: db.remove };
});

describe.skipIf(PG_URL === null)("PostgreSQL", () => {
  storeContract("PrismaStore on PostgreSQL", (clock) => {
    const url = freshPgUrl("contract");
    return { store: openPrismaStore({ url, clock }), cleanup: () => dropPgSchema(url) };
  });

  storeContract("CachedStore over PrismaStore on PostgreSQL", (clock) => {
    const url = freshPgUrl("contract_cached");
    return {
      store: new CachedStore(openPrismaStore({ url, clock }), { clock }),
      cleanup: () => dropPgSchema(url),
    };
  });
});

describe("PrismaStore given untyped input (JavaScript callers)", () => {
  it("refuses a counter step that is not a safe integer before any SQL is built", async () => {
    const db = tempSqlite();
    const store = openPrismaStore({ url: db.url });
    try {
      await store.set("secret", "hunter2");
      const injected =
        '(SELECT length("value") FROM "kv_entries" WHERE "key" = \'secret\')' as unknown as number;
      await expect(store.incrBy("counter", injected)).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await expect(store.hIncrBy("h", "f", 1.5)).rejects.toMatchObject({ code: "BAD_REQUEST" });
      expect(await store.get("counter")).toBeUndefined();
    } finally {
      await store.close();
      db.remove();
    }
  });
});

describe("PrismaStore keys over a large keyspace", () => {
  it("bounds each call's scan for a sparse pattern and still lists every match across pages", async () => {
    const db = tempSqlite();
    const store = openPrismaStore({ url: db.url });
    try {
      for (let batch = 0; batch < 25; batch++) {
        await store.mSet(
          Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k:${batch * 1000 + i}`, i])),
        );
      }
      await store.set("k:zz-first", 1);
      await store.set("zz-last", 1);
      const first = await store.keys({ pattern: "*zz*" });
      expect(first.cursor).not.toBeNull();
      expect(first.keys.length).toBeLessThan(2);
      const seen = [...first.keys];
      let cursor = first.cursor;
      let calls = 1;
      while (cursor !== null) {
        const page = await store.keys({ pattern: "*zz*", cursor });
        seen.push(...page.keys);
        cursor = page.cursor;
        calls++;
      }
      expect(seen).toEqual(["k:zz-first", "zz-last"]);
      expect(calls).toBeGreaterThan(2);
    } finally {
      await store.close();
      db.remove();
    }
  });
});
