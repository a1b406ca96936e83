import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/health` as its own stateless function. */
export default createEndpointApp("health");
