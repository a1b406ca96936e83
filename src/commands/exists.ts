import { chain } from "../core/types.ts";
import { defineCommand } from "./command.ts";
import { keyInput } from "./input.ts";

/**
 * Whether a key of either type exists. L1 may answer.
 * @see https://redis.io/commands/exists
 */
export const exists = defineCommand("exists", {
  input: keyInput,
  run: (ctx, { key }) => chain(ctx.read(key, "none"), (snapshot) => snapshot.kind !== "none"),
});
