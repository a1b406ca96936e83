import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/decr` as its own stateless function. */
export default createEndpointApp("decr");
