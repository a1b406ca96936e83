import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/mget` as its own stateless function. */
export default createEndpointApp("mget");
