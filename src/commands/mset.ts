import { z } from "zod";
import { defineCommand } from "./command.ts";
import { pairs, ttlSchema } from "./input.ts";

/**
 * Writes all pairs or none, each replacing its key's type and TTL.
 * @see https://redis.io/commands/mset
 */
export const mset = defineCommand("mset", {
  input: z.strictObject({ pairs: pairs("key"), ttlMs: ttlSchema.optional() }),
  writes: (input) => Object.keys(input.pairs),
  run: ({ store }, { pairs, ttlMs }) => store.mSet(pairs, ttlMs === undefined ? {} : { ttlMs }),
});
