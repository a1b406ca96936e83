import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/expire` as its own stateless function. */
export default createEndpointApp("expire");
