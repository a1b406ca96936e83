import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/extend` as its own stateless function. */
export default createEndpointApp("extend");
