import { snapshotHGetAllJson } from "../engine/snapshot.ts";
import { defineCommand } from "./command.ts";
import { keyInput } from "./input.ts";

/**
 * Every field of a hash; `{}` when the key is missing. L1 may answer.
 * @see https://redis.io/commands/hgetall
 */
export const hgetall = defineCommand("hgetall", {
  input: keyInput,
  run: async (ctx, { key }) => snapshotHGetAllJson(await ctx.read(key, "all")),
});
