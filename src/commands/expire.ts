import { z } from "zod";
import { defineCommand } from "./command.ts";
import { keySchema, ttlSchema } from "./input.ts";

/**
 * Sets a key's TTL; `true` if the key existed.
 * @see https://redis.io/commands/pexpire
 */
export const expire = defineCommand("expire", {
  input: z.strictObject({ key: keySchema, ttlMs: ttlSchema }),
  writes: (input) => [input.key],
  run: ({ store }, { key, ttlMs }) => store.expire(key, ttlMs),
});
