import { z } from "zod";
import { snapshotsMGetJson } from "../engine/snapshot.ts";
import { defineCommand } from "./command.ts";
import { batch, keySchema } from "./input.ts";

/**
 * The keys found among `keys`, leaving out missing keys and hashes. L1 may answer (a hit only
 * when it holds every key).
 * @see https://redis.io/commands/mget
 */
export const mget = defineCommand("mget", {
  input: z.strictObject({ keys: batch(keySchema) }),
  run: async (ctx, { keys }) => {
    const unique = [...new Set(keys)];
    return snapshotsMGetJson(unique, await ctx.readMany(unique));
  },
});
