import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/unlock` as its own stateless function. */
export default createEndpointApp("unlock");
