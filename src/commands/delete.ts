import { defineCommand } from "./command.ts";
import { keyInput } from "./input.ts";

/**
 * Deletes a key of either type; the number of keys removed (0 or 1).
 * @see https://redis.io/commands/del
 */
export const del = defineCommand("delete", {
  input: keyInput,
  writes: (input) => [input.key],
  run: ({ store }, { key }) => store.delete(key),
});
