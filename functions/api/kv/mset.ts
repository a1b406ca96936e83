import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/mset` as its own stateless function. */
export default createEndpointApp("mset");
