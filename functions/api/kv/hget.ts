import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/hget` as its own stateless function. */
export default createEndpointApp("hget");
