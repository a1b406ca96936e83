import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/expire` as its own stateless function. */
export default createEndpointApp("expire");
