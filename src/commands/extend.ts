import { z } from "zod";
import { defineCommand } from "./command.ts";
import { keySchema, tokenSchema, ttlSchema } from "./input.ts";

/** Resets the TTL of a lock `token` still holds; `false` when it holds it no longer. */
export const extend = defineCommand("extend", {
  input: z.strictObject({ key: keySchema, token: tokenSchema, ttlMs: ttlSchema }),
  run: ({ store }, { key, token, ttlMs }) => store.extend(key, token, ttlMs),
});
