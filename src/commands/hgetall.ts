import { chain } from "../core/types.ts";
import { snapshotHGetAllJson } from "../engine/snapshot.ts";
import { defineCommand } from "./command.ts";
import { keyInput } from "./input.ts";

/**
 * Every field of a hash; `{}` when the key is missing. L1 may answer.
 * @see https://redis.io/commands/hgetall
 */
export const hgetall = defineCommand("hgetall", {
  input: keyInput,
  run: (ctx, { key }) => chain(ctx.read(key, "all"), snapshotHGetAllJson),
});
