import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/lock` as its own stateless function. */
export default createEndpointApp("lock");
