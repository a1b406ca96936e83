import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/ttl` as its own stateless function. */
export default createEndpointApp("ttl");
