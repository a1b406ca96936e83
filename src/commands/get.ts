import { NotFoundError } from "../core/errors.ts";
import { JsonText } from "../core/types.ts";
import { snapshotGetJson } from "../engine/snapshot.ts";
import { defineCommand } from "./command.ts";
import { keyInput } from "./input.ts";

/**
 * The value of a key; `NOT_FOUND` when it is missing, `WRONGTYPE` for a hash. L1 may answer.
 * @see https://redis.io/commands/get
 */
export const get = defineCommand("get", {
  input: keyInput,
  run: async (ctx, { key }) => {
    const json = snapshotGetJson(await ctx.read(key, "none"));
    if (json === undefined) throw new NotFoundError("key not found");
    return new JsonText(json);
  },
});
