import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/health` as its own stateless function. */
export default createEndpointApp("health");
