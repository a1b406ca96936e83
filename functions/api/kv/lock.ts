import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/lock` as its own stateless function. */
export default createEndpointApp("lock");
