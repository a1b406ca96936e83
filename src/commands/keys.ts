import { z } from "zod";
import { MAX_KEYS_LIMIT, MAX_PATTERN_LENGTH } from "../core/limits.ts";
import { defineCommand } from "./command.ts";

const LIMIT_MESSAGE = `must be an integer from 1 to ${MAX_KEYS_LIMIT}`;

/**
 * One page of the live keys matching a Redis glob, in byte order, with the cursor of the next.
 * Always read from the database. The input is the query string, so `limit` arrives as text.
 * @see https://redis.io/commands/scan
 */
export const keys = defineCommand("keys", {
  input: z.strictObject({
    pattern: z.string().max(MAX_PATTERN_LENGTH).optional(),
    limit: z
      .string()
      .regex(/^[0-9]{1,4}$/, { message: LIMIT_MESSAGE })
      .transform(Number)
      .refine((n) => n >= 1 && n <= MAX_KEYS_LIMIT, { message: LIMIT_MESSAGE })
      .optional(),
    cursor: z.string().optional(),
  }),
  run: ({ store }, { pattern, limit, cursor }) =>
    store.keys({
      ...(pattern !== undefined ? { pattern } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    }),
});
