import { z } from "zod";
import { defineCommand } from "./command.ts";

/** `{status: "ok", db}` when the database answers; `UNAVAILABLE` otherwise. Needs no token. */
export const health = defineCommand("health", {
  input: z.strictObject({}),
  run: async ({ engine }) => {
    await engine.ping();
    return { status: "ok", db: engine.kind };
  },
});
