import { z } from "zod";
import { defineCommand } from "./command.ts";
import { keySchema, ttlSchema } from "./input.ts";

/**
 * Acquires the lock `key` for `ttlMs` if no live lock of that name exists, atomically across
 * instances. Locks live in their own keyspace: no L1 entry is touched.
 * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
 */
export const lock = defineCommand("lock", {
  input: z.strictObject({ key: keySchema, ttlMs: ttlSchema }),
  run: ({ store }, { key, ttlMs }) => store.lock(key, ttlMs),
});
