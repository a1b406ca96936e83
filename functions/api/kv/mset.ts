import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/mset` as its own stateless function. */
export default createEndpointApp("mset");
