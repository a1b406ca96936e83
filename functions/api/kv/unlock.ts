import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/unlock` as its own stateless function. */
export default createEndpointApp("unlock");
