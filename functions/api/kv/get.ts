import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/get` as its own stateless function. */
export default createEndpointApp("get");
