import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/hincrby` as its own stateless function. */
export default createEndpointApp("hincrby");
