import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/hdel` as its own stateless function. */
export default createEndpointApp("hdel");
