import { serve } from "@hono/node-server";
import { Hono } from "hono";

// The baseline: the same framework and server answering a constant, with no store behind it.
const app = new Hono();
app.get("/api/kv/get", (c) => c.json({ result: "value" }));
serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
