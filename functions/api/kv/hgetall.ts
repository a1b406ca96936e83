import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/hgetall` as its own stateless function. */
export default createEndpointApp("hgetall");
