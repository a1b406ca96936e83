import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/ttl` as its own stateless function. */
export default createEndpointApp("ttl");
