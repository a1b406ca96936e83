import { afterAll, beforeAll, describe } from "vitest";
import { type RunningServer, startServer } from "../../src/adapters/node-server.ts";
import { loadConfig } from "../../src/core/config.ts";
import { tempSqlite } from "../helpers/databases.ts";
import { conformance } from "./suite.ts";
import { TARGET_TOKENS } from "./targets.ts";

describe("conformance: Node server on SQLite", () => {
  const db = tempSqlite();
  let server: RunningServer | undefined;

  beforeAll(async () => {
    server = await startServer(
      loadConfig({
        DATABASE_URL: db.url,
        PORT: "0",
        HOST: "127.0.0.1",
        KV_TOKEN: TARGET_TOKENS.token,
        KV_READONLY_TOKEN: TARGET_TOKENS.readonlyToken,
      }),
    );
  });

  afterAll(async () => {
    await server?.close();
    db.remove();
  });

  conformance(
    () => {
      if (server === undefined) throw new Error("the Node server did not start");
      return server.url;
    },
    { ...TARGET_TOKENS, db: "sqlite", l1: "shared" },
  );
});
