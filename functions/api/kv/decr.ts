import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/decr` as its own stateless function. */
export default createEndpointApp("decr");
