import { z } from "zod";
import { NotFoundError } from "../core/errors.ts";
import { chain, JsonText } from "../core/types.ts";
import { snapshotHGetJson } from "../engine/snapshot.ts";
import { defineCommand } from "./command.ts";
import { keySchema } from "./input.ts";

/**
 * A hash field's value; `NOT_FOUND` when the key or the field is missing. L1 may answer.
 * @see https://redis.io/commands/hget
 */
export const hget = defineCommand("hget", {
  input: z.strictObject({ key: keySchema, field: keySchema }),
  run: (ctx, { key, field }) =>
    chain(ctx.read(key, [field]), (snapshot) => {
      const json = snapshotHGetJson(snapshot, field);
      if (json === undefined)
        throw new NotFoundError(`${snapshot.kind === "none" ? "key" : "field"} not found`);
      return new JsonText(json);
    }),
});
