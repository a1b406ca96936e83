import { NotFoundError } from "../core/errors.ts";
import { chain, JsonText } from "../core/types.ts";
import { snapshotGetJson } from "../engine/snapshot.ts";
import { defineCommand } from "./command.ts";
import { keyInput } from "./input.ts";

/**
 * The value of a key; `NOT_FOUND` when it is missing, `WRONGTYPE` for a hash. L1 may answer.
 * @see https://redis.io/commands/get
 */
export const get = defineCommand("get", {
  input: keyInput,
  run: (ctx, { key }) =>
    chain(ctx.read(key, "none"), (snapshot) => {
      const json = snapshotGetJson(snapshot);
      if (json === undefined) throw new NotFoundError("key not found");
      return new JsonText(json);
    }),
});
