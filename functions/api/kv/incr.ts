import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/incr` as its own stateless function. */
export default createEndpointApp("incr");
