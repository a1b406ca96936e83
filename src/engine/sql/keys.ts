import { compareBytes } from "../../core/bytes.ts";
import { compileGlob } from "../../core/glob.ts";
import { decodeCursor, encodeCursor, keysLimit, keysPage } from "../../core/keys-page.ts";
import type { KeysOptions, KeysPage } from "../../core/types.ts";
import { type Row, type SqlContext, T_ENTRIES, T_FIELDS, T_LOCKS } from "./context.ts";
import { sql } from "./dialect.ts";

const KEYS_SCAN_BATCH = 1000;
/** Most batches one `keys` call reads. */
const KEYS_SCAN_BUDGET = 10;

export async function keys(ctx: SqlContext, options: KeysOptions = {}): Promise<KeysPage> {
  const limit = keysLimit(options.limit);
  const glob = compileGlob(options.pattern ?? "*", options.glob);
  let after = decodeCursor(options.cursor);
  const now = ctx.clock.now();
  const found: string[] = [];
  // Scan in key order from the pattern's literal prefix, until one match past the page
  // (so that a null cursor really means the end) or past the last key with that prefix.
  // A sparse pattern over a large keyspace stops after a bounded scan with a short page and a
  // cursor where it stopped, as Redis SCAN does, instead of reading the whole table at once.
  for (let batch = 0; ; batch++) {
    if (batch === KEYS_SCAN_BUDGET && after !== null) return { keys: found, cursor: encodeCursor(after) };
    const from =
      after !== null && compareBytes(after, glob.prefix) >= 0
        ? sql`"key" > ${ctx.enc(after)}`
        : sql`"key" >= ${ctx.enc(glob.prefix)}`;
    const rows = await ctx.run((db) =>
      db.$queryRaw<Row[]>(
        sql`SELECT "key" FROM ${T_ENTRIES} WHERE ${from} AND ${ctx.live(now)}
            ORDER BY "key" LIMIT ${KEYS_SCAN_BATCH}`,
      ),
    );
    for (const row of rows) {
      const key = ctx.dec(row.key);
      if (!key.startsWith(glob.prefix)) return keysPage(found, limit);
      if (glob.test(key)) {
        found.push(key);
        if (found.length > limit) return keysPage(found, limit);
      }
      after = key;
    }
    if (rows.length < KEYS_SCAN_BATCH) return keysPage(found, limit);
  }
}

export async function sweep(ctx: SqlContext): Promise<number> {
  const now = ctx.clock.now();
  return ctx.run(async (db) => {
    const entries = await db.$executeRaw(
      sql`DELETE FROM ${T_ENTRIES} WHERE "expires_at" IS NOT NULL AND "expires_at" <= ${now}`,
    );
    const locks = await db.$executeRaw(sql`DELETE FROM ${T_LOCKS} WHERE "expires_at" <= ${now}`);
    return entries + locks;
  });
}

/** Deletes every key; hash fields go with their keys (the schema cascades). */
export async function flush(ctx: SqlContext): Promise<void> {
  await ctx.transaction(async (tx) => {
    await tx.$executeRaw(sql`DELETE FROM ${T_FIELDS}`);
    await tx.$executeRaw(sql`DELETE FROM ${T_ENTRIES}`);
  });
}
