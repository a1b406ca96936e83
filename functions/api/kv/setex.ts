import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/setex` as its own stateless function. */
export default createEndpointApp("setex");
