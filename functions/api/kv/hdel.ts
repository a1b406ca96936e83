import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/hdel` as its own stateless function. */
export default createEndpointApp("hdel");
