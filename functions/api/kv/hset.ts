import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/hset` as its own stateless function. */
export default createEndpointApp("hset");
