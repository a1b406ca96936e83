import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/adapters/node-server.ts";
import { type TempSqlite, tempSqlite } from "../helpers/databases.ts";
import { FULL_TOKEN, startKvServer } from "../helpers/harness.ts";

// Every ```ts block of README.md runs as a module against a real server: the examples
// cannot drift from the code. Package imports point at the sources (test/package/pack.test.ts
// runs the same blocks against the packed packages).

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PACKAGE_ENTRIES: Record<string, string> = {
  "tierkv/client": join(ROOT, "src/client/index.ts"),
  "tierkv/stores": join(ROOT, "src/stores/index.ts"),
  "tierkv/cacher": join(ROOT, "src/cacher/index.ts"),
  "tierkv-client": join(ROOT, "src/client/index.ts"),
  "tierkv-client/stores": join(ROOT, "src/stores/portable.ts"),
  "tierkv-client/redis": join(ROOT, "src/stores/redis-store.ts"),
  "tierkv-client/cacher": join(ROOT, "src/cacher/index.ts"),
};

function examples(): { line: number; code: string }[] {
  const text = readFileSync(join(ROOT, "README.md"), "utf8");
  const out: { line: number; code: string }[] = [];
  const fence = /^```ts\n([\s\S]*?)^```$/gm;
  for (let match = fence.exec(text); match !== null; match = fence.exec(text)) {
    const line = text.slice(0, match.index).split("\n").length;
    const code = (match[1] as string).replace(
      /from "(tierkv(?:-client)?(?:\/[a-z]+)?)"/g,
      (_whole, name: string) => {
        const entry = PACKAGE_ENTRIES[name];
        if (entry === undefined) throw new Error(`README.md line ${line} imports unknown ${name}`);
        return `from ${JSON.stringify(entry)}`;
      },
    );
    out.push({ line, code });
  }
  return out;
}

describe("README.md examples", () => {
  let server: RunningServer;
  let db: TempSqlite;
  const dir = mkdtempSync(join(tmpdir(), "tierkv-docs-"));
  beforeAll(async () => {
    db = tempSqlite();
    server = await startKvServer({ env: { DATABASE_URL: db.url } });
    process.env.KV_URL = server.url;
    process.env.KV_TOKEN = FULL_TOKEN;
    process.env.UPSTASH_REDIS_REST_URL = `${server.url}/api/redis`;
    process.env.UPSTASH_REDIS_REST_TOKEN = FULL_TOKEN;
  });
  afterAll(async () => {
    await server?.close();
    db?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  const blocks = examples();
  it("has examples", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });

  it.each(blocks)("the example at line $line runs", async ({ line, code }) => {
    const file = join(dir, `example-${line}.ts`);
    writeFileSync(file, `${code}\nexport {};\n`);
    await import(/* @vite-ignore */ file);
  });
});
