import { request } from "node:http";
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

/** A GET with raw headers (a name may repeat), answered with its status and body. */
function rawGet(url: string, headers: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // Headers as a raw list: Node adds no Host of its own then.
    const req = request(url, { headers: ["Host", new URL(url).host, ...headers] }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("request headers on the Node server", () => {
  it("joins a repeated header as Fetch does: two Authorization headers are no token", async () => {
    const db = tempSqlite();
    const server = await startServer(loadConfig({ DATABASE_URL: db.url, KV_TOKEN: "t", PORT: "0" }));
    try {
      const url = `${server.url}/api/kv/exists?key=a`;
      expect((await rawGet(url, ["Authorization", "Bearer t"])).status).toBe(200);
      // Node alone would keep the first and let this pass; the Fetch API sees "Bearer t, Bearer x".
      const twice = await rawGet(url, ["Authorization", "Bearer t", "Authorization", "Bearer x"]);
      expect(twice.status).toBe(401);
      expect(JSON.parse(twice.body)).toMatchObject({ error: { code: "UNAUTHORIZED" } });
    } finally {
      await server.close();
      db.remove();
    }
  });
});
