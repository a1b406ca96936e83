import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/extend` as its own stateless function. */
export default createEndpointApp("extend");
