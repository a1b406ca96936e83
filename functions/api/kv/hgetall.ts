import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/hgetall` as its own stateless function. */
export default createEndpointApp("hgetall");
