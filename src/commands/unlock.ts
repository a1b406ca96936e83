import { z } from "zod";
import { defineCommand } from "./command.ts";
import { keySchema, tokenSchema } from "./input.ts";

/** Releases a lock if `token` still holds it; a wrong or stale token changes nothing. */
export const unlock = defineCommand("unlock", {
  input: z.strictObject({ key: keySchema, token: tokenSchema }),
  run: ({ store }, { key, token }) => store.unlock(key, token),
});
