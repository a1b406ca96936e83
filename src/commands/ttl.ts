import { defineCommand } from "./command.ts";
import { keyInput } from "./input.ts";

/**
 * Remaining milliseconds; `-1` when the key has no expiry, `-2` when it is missing. Always
 * read from the database.
 * @see https://redis.io/commands/pttl
 */
export const ttl = defineCommand("ttl", {
  input: keyInput,
  run: ({ store }, { key }) => store.ttl(key),
});
