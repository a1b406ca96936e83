import { z } from "zod";
import { defineCommand } from "./command.ts";
import { keySchema, ttlSchema, valueSchema } from "./input.ts";
import { set } from "./set.ts";

/**
 * Stores a value that expires after `ttlMs` milliseconds: `set` with a required TTL.
 * @see https://redis.io/commands/psetex
 */
export const setex = defineCommand("setex", {
  input: z.strictObject({ key: keySchema, value: valueSchema, ttlMs: ttlSchema }),
  writes: (input) => [input.key],
  run: async (ctx, input) => {
    await set.run(ctx, input);
    return true as const;
  },
  keep: (input, _written, startedAt) => set.keep?.(input, true, startedAt),
});
