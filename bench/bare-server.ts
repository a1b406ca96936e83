import { serve } from "@hono/node-server";
import { Hono } from "hono";

// The ceiling: the same framework and server answering every route with a constant, no store.
const app = new Hono();
app.all("/api/kv/*", (c) => c.json({ result: "value" }));
app.post("/api/redis", (c) => c.json({ result: "value" }));
app.post("/api/redis/pipeline", (c) => c.json(Array.from({ length: 10 }, () => ({ result: "value" }))));
serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
