import type { Row, SqlContext } from "./context.ts";
import { raw, sql } from "./dialect.ts";

// The script cache (EVAL, SCRIPT LOAD): one row per script, so EVALSHA works on every instance
// sharing the database, and after a restart. Bodies are stored as keys are (`enc`), since
// PostgreSQL's text cannot hold a NUL character.

const T_SCRIPTS = raw(`"kv_scripts"`);

export async function scripts(ctx: SqlContext, shas: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (shas.length === 0) return out;
  const rows = await ctx.run((db) =>
    db.$queryRaw<Row[]>(
      sql`SELECT "sha", "body" FROM ${T_SCRIPTS} WHERE "sha" IN ${ctx.dialect.list([...new Set(shas)])}`,
    ),
  );
  for (const row of rows) out.set(row.sha as string, ctx.dec(row.body));
  return out;
}

export async function saveScript(ctx: SqlContext, sha: string, body: string): Promise<void> {
  const now = ctx.clock.now();
  await ctx.run((db) =>
    db.$executeRaw(
      sql`INSERT INTO ${T_SCRIPTS} ("sha", "body", "created_at") VALUES (${sha}, ${ctx.enc(body)}, ${now})
          ON CONFLICT ("sha") DO NOTHING`,
    ),
  );
}

export async function flushScripts(ctx: SqlContext): Promise<void> {
  await ctx.run((db) => db.$executeRaw(sql`DELETE FROM ${T_SCRIPTS}`));
}
