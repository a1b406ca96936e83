import { describe } from "vitest";
import { openPrismaStore } from "../../src/db/open.ts";
import { CachedStore } from "../../src/store/cached-store.ts";
import { dropPgSchema, freshPgUrl, freshSqliteUrl, PG_URL } from "../helpers/databases.ts";
import { storeContract } from "./contract.ts";

storeContract("PrismaStore on SQLite", (clock) => {
  const db = freshSqliteUrl();
  return { store: openPrismaStore({ url: db.url, clock }), cleanup: db.cleanup };
});

storeContract("CachedStore over PrismaStore on SQLite", (clock) => {
  const db = freshSqliteUrl();
  return { store: new CachedStore(openPrismaStore({ url: db.url, clock }), { clock }), cleanup: db.cleanup };
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
