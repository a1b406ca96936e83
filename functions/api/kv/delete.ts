import { createEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/kv/delete` as its own stateless function. */
export default createEndpointApp("delete");
