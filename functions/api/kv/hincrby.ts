import { createEndpointApp } from "../../../src/http/function.ts";

/** `/api/kv/hincrby` as its own stateless function. */
export default createEndpointApp("hincrby");
