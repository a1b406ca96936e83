import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/delete` as its own stateless function. */
export default createEndpointApp("delete");
