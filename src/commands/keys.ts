import { z } from "zod";
import { CURSOR_PATTERN } from "../core/keys-page.ts";
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
    pattern: z.string().max(MAX_PATTERN_LENGTH).describe("A Redis glob pattern; `*` when absent.").optional(),
    limit: z
      .string()
      // 1 to 1000 in at most 4 digits, as a regex so that the API document can say it.
      .regex(/^(?:0{0,3}[1-9]|0{0,2}[1-9][0-9]|0?[1-9][0-9]{2}|1000)$/, { message: LIMIT_MESSAGE })
      .transform(Number)
      .refine((n) => n >= 1 && n <= MAX_KEYS_LIMIT, { message: LIMIT_MESSAGE })
      .describe(`The most keys in the page, 1 to ${MAX_KEYS_LIMIT}; ${MAX_KEYS_LIMIT} when absent.`)
      .optional(),
    cursor: z
      .string()
      .regex(CURSOR_PATTERN, { message: "is not a cursor returned by keys" })
      .describe("The cursor the previous page answered; absent or empty for the first page.")
      .optional(),
  }),
  run: ({ store }, { pattern, limit, cursor }) =>
    store.keys({
      ...(pattern !== undefined ? { pattern } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    }),
});
