import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/setex` as its own stateless function. */
export default createEndpointApp("setex");
