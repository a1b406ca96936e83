import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/exists` as its own stateless function. */
export default createEndpointApp("exists");
