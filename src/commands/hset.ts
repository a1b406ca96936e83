import { z } from "zod";
import { createRecord, type JsonValue } from "../core/types.ts";
import { defineCommand } from "./command.ts";
import { fail, keySchema, pairs, valueSchema } from "./input.ts";

/**
 * Sets hash fields, given as `{field, value}` or `{fields: {f: v, …}}`; how many were new.
 * @see https://redis.io/commands/hset
 */
export const hset = defineCommand("hset", {
  input: z
    .strictObject({
      key: keySchema,
      field: keySchema.optional(),
      value: valueSchema.optional(),
      fields: pairs("field").optional(),
    })
    .superRefine((b, ctx) => {
      const single = b.field !== undefined || b.value !== undefined;
      if (single && b.fields !== undefined)
        fail(ctx, "BAD_REQUEST", "cannot be combined with field and value", ["fields"]);
      else if (!single && b.fields === undefined)
        fail(ctx, "BAD_REQUEST", "is required (or field and value)", ["fields"]);
      else if (single && (b.field === undefined || b.value === undefined))
        fail(ctx, "BAD_REQUEST", `is required with ${b.field === undefined ? "value" : "field"}`, [
          b.field === undefined ? "field" : "value",
        ]);
    })
    .meta({
      oneOf: [
        { required: ["field", "value"], properties: { fields: false } },
        { required: ["fields"], properties: { field: false, value: false } },
      ],
    })
    .transform((b) => ({
      key: b.key,
      fields: b.fields ?? oneField(b.field as string, b.value as JsonValue),
    })),
  writes: (input) => [input.key],
  run: ({ store }, { key, fields }) => store.hSet(key, fields),
});

function oneField(field: string, value: JsonValue): Record<string, JsonValue> {
  const out = createRecord<JsonValue>();
  out[field] = value;
  return out;
}
