import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/keys` as its own stateless function. */
export default createEndpointApp("keys");
