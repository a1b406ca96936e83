import { z } from "zod";
import { defineCommand } from "./command.ts";
import { bySchema, keySchema } from "./input.ts";

/**
 * Adds `by` to a hash field's integer, atomically across instances; the new integer.
 * @see https://redis.io/commands/hincrby
 */
export const hincrby = defineCommand("hincrby", {
  input: z.strictObject({ key: keySchema, field: keySchema, by: bySchema }),
  writes: (input) => [input.key],
  run: ({ store }, { key, field, by }) => store.hIncrBy(key, field, by),
});
