import { describe, expect, it } from "vitest";
import { startServer } from "../../src/adapters/node-server.ts";
import { loadConfig } from "../../src/core/config.ts";
import { tempSqlite } from "../helpers/databases.ts";

describe("startServer", () => {
  it("rejects with a clear error when its port is taken, instead of hanging", async () => {
    const db = tempSqlite();
    const first = await startServer(loadConfig({ DATABASE_URL: db.url, KV_TOKEN: "t", PORT: "0" }));
    try {
      const port = new URL(first.url).port;
      await expect(
        startServer(loadConfig({ DATABASE_URL: db.url, KV_TOKEN: "t", PORT: port })),
      ).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      await first.close();
      db.remove();
    }
  });
});
