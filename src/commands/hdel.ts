import { z } from "zod";
import { defineCommand } from "./command.ts";
import { batch, keySchema } from "./input.ts";

/**
 * Deletes hash fields; how many were removed. A hash left with no field is gone.
 * @see https://redis.io/commands/hdel
 */
export const hdel = defineCommand("hdel", {
  input: z.strictObject({ key: keySchema, fields: batch(keySchema) }),
  writes: (input) => [input.key],
  run: ({ store }, { key, fields }) => store.hDel(key, fields),
});
