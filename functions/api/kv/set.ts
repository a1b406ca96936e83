import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/set` as its own stateless function. */
export default createEndpointApp("set");
