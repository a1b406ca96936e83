import { defineCommand } from "./command.ts";
import { counterInput } from "./input.ts";

/**
 * Subtracts `by` (default 1) from a counter, atomically across instances; the new integer.
 * @see https://redis.io/commands/decrby
 */
export const decr = defineCommand("decr", {
  input: counterInput,
  writes: (input) => [input.key],
  run: ({ store }, { key, by }) => store.incrBy(key, -(by ?? 1)),
});
