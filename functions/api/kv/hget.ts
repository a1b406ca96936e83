import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/hget` as its own stateless function. */
export default createEndpointApp("hget");
