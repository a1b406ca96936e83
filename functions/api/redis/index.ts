import { createRedisEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/redis` (one Redis command) as its own stateless function. */
export default createRedisEndpointApp("command");
