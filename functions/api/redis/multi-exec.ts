import { createRedisEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/redis/multi-exec` as its own stateless function. */
export default createRedisEndpointApp("multi-exec");
