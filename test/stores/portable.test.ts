import { describe, expect, it } from "vitest";
import { BadRequestError } from "../../src/core/errors.ts";
import { createStore } from "../../src/stores/portable.ts";

// `tierkv-client/stores`: the stores that need no server dependency, and the way to the others.
describe("createStore of tierkv-client/stores", () => {
  it("opens memory: and http(s):// stores", async () => {
    const store = createStore({ url: "memory:", keyPrefix: "p:" });
    await store.set("a", { n: 1 });
    expect(await store.get("a")).toEqual({ n: 1 });
    await store.close();
    expect(createStore({ url: "https://kv.example.com", token: "t" }).name).toBe("http");
  });

  it("names the package that opens the other backends, without echoing the URL", () => {
    const secret = "s3cret-password";
    for (const [url, hint] of [
      ["file:./data/kv.db", 'createStore from "tierkv/stores"'],
      [`postgresql://user:${secret}@db/app`, 'createStore from "tierkv/stores"'],
      [`redis://:${secret}@127.0.0.1:6379`, 'createRedisStore from "tierkv-client/redis"'],
      [`ftp://${secret}@host`, "memory: or http(s)://"],
    ] as const) {
      let error: unknown;
      try {
        createStore({ url });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as Error).message).toContain(hint);
      expect((error as Error).message).not.toContain(secret);
    }
  });
});
