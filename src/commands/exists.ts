import { defineCommand } from "./command.ts";
import { keyInput } from "./input.ts";

/**
 * Whether a key of either type exists. L1 may answer.
 * @see https://redis.io/commands/exists
 */
export const exists = defineCommand("exists", {
  input: keyInput,
  run: async (ctx, { key }) => (await ctx.read(key, "none")).kind !== "none",
});
