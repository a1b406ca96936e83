import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/incr` as its own stateless function. */
export default createEndpointApp("incr");
