import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/mget` as its own stateless function. */
export default createEndpointApp("mget");
