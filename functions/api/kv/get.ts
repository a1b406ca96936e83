import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/get` as its own stateless function. */
export default createEndpointApp("get");
