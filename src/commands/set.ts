import { z } from "zod";
import { defineCommand } from "./command.ts";
import { keySchema, ttlSchema, valueSchema } from "./input.ts";

/**
 * Stores a value, replacing a key of any type; `false` when `nx`/`xx` prevented the write.
 * @see https://redis.io/commands/set
 */
export const set = defineCommand("set", {
  input: z
    .strictObject({
      key: keySchema,
      value: valueSchema,
      ttlMs: ttlSchema.optional(),
      nx: z.boolean().optional(),
      xx: z.boolean().optional(),
    })
    .refine((b) => !(b.nx && b.xx), { message: "cannot be combined with xx", path: ["nx"] })
    .meta({ not: { required: ["nx", "xx"], properties: { nx: { const: true }, xx: { const: true } } } }),
  writes: (input) => [input.key],
  run: ({ store }, { key, value, ...options }) => store.set(key, value, options),
  // The expiry is counted from before the write, as the store's is: the entry never outlives the key.
  keep: ({ key, value, ttlMs }, written, startedAt) => {
    if (!written) return undefined;
    const expiresAt = ttlMs === undefined ? null : startedAt + ttlMs;
    return { key, snapshot: { kind: "string", json: JSON.stringify(value), expiresAt }, expiresAt };
  },
});
