import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/keys` as its own stateless function. */
export default createEndpointApp("keys");
