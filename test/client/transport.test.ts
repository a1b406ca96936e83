import { describe, expect, it } from "vitest";
import {
  BadRequestError,
  createClient,
  InternalError,
  UnavailableError,
  WrongTypeError,
} from "../../src/client/index.ts";

// The transport without a network: an injected fetch answers from a script.

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

function scripted(...answers: (Response | Error | "hang")[]) {
  const seen: Seen[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    seen.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers: init?.headers as Record<string, string>,
      body: init?.body === undefined ? undefined : JSON.parse(String(init.body)),
    });
    const answer = answers[Math.min(seen.length - 1, answers.length - 1)];
    if (answer === "hang") {
      return new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      });
    }
    if (answer instanceof Error) throw answer;
    return (answer as Response).clone();
  };
  return { fetch, seen };
}

const ok = (result: unknown) => Response.json({ result });
const fail = (status: number, code: string, message = "something") =>
  Response.json({ error: { code, message } }, { status });

describe("requests", () => {
  it("sends the bearer token, the JSON body and percent-encoded query to the API base", async () => {
    const { fetch, seen } = scripted(ok(true), ok("v"));
    const kv = createClient({ url: "https://kv.example.com/", token: "secret-token", fetch });
    await kv.set("a b", { x: 1 }, { ttlMs: 5 });
    await kv.get("100%&x=y");
    expect(seen[0]).toMatchObject({
      url: "https://kv.example.com/api/kv/set",
      method: "POST",
      body: { key: "a b", value: { x: 1 }, ttlMs: 5 },
    });
    expect(seen[0]?.headers.authorization).toBe("Bearer secret-token");
    expect(seen[0]?.headers["content-type"]).toBe("application/json");
    expect(seen[1]?.url).toBe("https://kv.example.com/api/kv/get?key=100%25%26x%3Dy");
  });

  it("accepts a URL that already ends in /api/kv, and sends no-cache on reads when asked", async () => {
    const { fetch, seen } = scripted(ok(1));
    const kv = createClient({ url: "http://h/api/kv", fetch, noCache: true });
    await kv.get("k");
    expect(seen[0]?.url).toBe("http://h/api/kv/get?key=k");
    expect(seen[0]?.headers["cache-control"]).toBe("no-cache");
    expect(seen[0]?.headers.authorization).toBeUndefined();
  });
});

describe("retries", () => {
  it("retries an idempotent operation after a 503 and after a network error", async () => {
    const { fetch, seen } = scripted(fail(503, "UNAVAILABLE"), new TypeError("fetch failed"), ok("v"));
    const kv = createClient({ url: "http://h", fetch, retries: 2, backoffMs: 1 });
    expect(await kv.get("k")).toBe("v");
    expect(seen).toHaveLength(3);
  });

  it("gives up after `retries` extra attempts with an UnavailableError carrying the cause", async () => {
    const cause = new TypeError("fetch failed");
    const { fetch, seen } = scripted(cause);
    const kv = createClient({ url: "http://h", token: "secret-token", fetch, retries: 2, backoffMs: 1 });
    const error = await kv.get("k").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).cause).toBe(cause);
    expect((error as Error).message).not.toContain("secret-token");
    expect(seen).toHaveLength(3);
  });

  it("never retries a non-idempotent operation", async () => {
    for (const call of [
      (kv: ReturnType<typeof createClient>) => kv.incr("k"),
      (kv: ReturnType<typeof createClient>) => kv.lock("k", 1_000),
      (kv: ReturnType<typeof createClient>) => kv.set("k", 1, { nx: true }),
    ]) {
      const { fetch, seen } = scripted(fail(503, "UNAVAILABLE"), ok(1));
      const kv = createClient({ url: "http://h", fetch, retries: 3, backoffMs: 1 });
      await expect(call(kv)).rejects.toBeInstanceOf(UnavailableError);
      expect(seen).toHaveLength(1);
    }
  });

  it("does not retry other errors", async () => {
    const { fetch, seen } = scripted(fail(400, "BAD_REQUEST"), ok(1));
    const kv = createClient({ url: "http://h", fetch, retries: 3, backoffMs: 1 });
    await expect(kv.get("k")).rejects.toBeInstanceOf(BadRequestError);
    expect(seen).toHaveLength(1);
  });

  it("aborts an attempt at the timeout", async () => {
    const { fetch, seen } = scripted("hang");
    const kv = createClient({ url: "http://h", fetch, timeoutMs: 10, retries: 1, backoffMs: 1 });
    await expect(kv.get("k")).rejects.toThrow(/timed out after 10 ms/);
    expect(seen).toHaveLength(2);
  });
});

describe("responses", () => {
  it("maps the envelope's code to its error class, with the server's message", async () => {
    const { fetch } = scripted(fail(409, "WRONGTYPE", "key holds a hash"));
    const error = await createClient({ url: "http://h", fetch })
      .get("k")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongTypeError);
    expect(error).toMatchObject({ code: "WRONGTYPE", status: 409, message: "key holds a hash" });
  });

  it("turns a body that is not an envelope into an InternalError", async () => {
    const { fetch } = scripted(new Response("<html>bad gateway</html>", { status: 502 }), new Response("{}"));
    const kv = createClient({ url: "http://h", fetch, retries: 0 });
    await expect(kv.get("k")).rejects.toBeInstanceOf(InternalError);
    await expect(kv.get("k")).rejects.toBeInstanceOf(InternalError);
  });

  it("keeps a __proto__ key of an mget result as plain data", async () => {
    const { fetch } = scripted(new Response('{"result":{"__proto__":{"polluted":true}}}'));
    const found = await createClient({ url: "http://h", fetch }).mGet(["__proto__"]);
    expect(Object.keys(found)).toEqual(["__proto__"]);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
