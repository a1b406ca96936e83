import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/exists` as its own stateless function. */
export default createEndpointApp("exists");
