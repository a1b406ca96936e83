import { randomToken } from "../../core/token.ts";
import type { LockResult } from "../../core/types.ts";
import { type Row, type SqlContext, T_LOCKS } from "./context.ts";
import { sql } from "./dialect.ts";

// Locks live in their own table: a lock named `x` never touches the key `x` (SPEC §1).

export async function lock(ctx: SqlContext, name: string, ttlMs: number): Promise<LockResult> {
  const key = ctx.enc(name);
  const now = ctx.clock.now();
  const token = randomToken();
  const rows = await ctx.run((db) =>
    db.$queryRaw<Row[]>(
      sql`INSERT INTO ${T_LOCKS} ("name", "token", "expires_at") VALUES (${key}, ${token}, ${now + ttlMs})
          ON CONFLICT ("name") DO UPDATE SET "token" = excluded."token", "expires_at" = excluded."expires_at"
          WHERE ${T_LOCKS}."expires_at" <= ${now}
          RETURNING "token"`,
    ),
  );
  return rows[0]?.token === token ? { acquired: true, token } : { acquired: false, token: null };
}

/** A token tierkv never hands out, and one PostgreSQL's text cannot even hold (a NUL character). */
function impossible(token: string): boolean {
  return token.includes("\u0000");
}

export async function unlock(ctx: SqlContext, name: string, token: string): Promise<boolean> {
  if (impossible(token)) return false;
  const key = ctx.enc(name);
  const now = ctx.clock.now();
  const n = await ctx.run((db) =>
    db.$executeRaw(
      sql`DELETE FROM ${T_LOCKS} WHERE "name" = ${key} AND "token" = ${token} AND "expires_at" > ${now}`,
    ),
  );
  return n > 0;
}

export async function extend(ctx: SqlContext, name: string, token: string, ttlMs: number): Promise<boolean> {
  if (impossible(token)) return false;
  const key = ctx.enc(name);
  const now = ctx.clock.now();
  const n = await ctx.run((db) =>
    db.$executeRaw(
      sql`UPDATE ${T_LOCKS} SET "expires_at" = ${now + ttlMs}
          WHERE "name" = ${key} AND "token" = ${token} AND "expires_at" > ${now}`,
    ),
  );
  return n > 0;
}
