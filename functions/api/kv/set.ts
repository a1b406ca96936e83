import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/set` as its own stateless function. */
export default createEndpointApp("set");
