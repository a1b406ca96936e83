import { defineCommand } from "./command.ts";
import { counterInput } from "./input.ts";

/**
 * Adds `by` (default 1) to a counter, atomically across instances; the new integer.
 * @see https://redis.io/commands/incrby
 */
export const incr = defineCommand("incr", {
  input: counterInput,
  writes: (input) => [input.key],
  run: ({ store }, { key, by }) => store.incrBy(key, by ?? 1),
});
