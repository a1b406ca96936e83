import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/hset` as its own stateless function. */
export default createEndpointApp("hset");
