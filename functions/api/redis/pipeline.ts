import { createRedisEndpointApp } from "../../../src/adapters/vercel.ts";

/** `/api/redis/pipeline` as its own stateless function. */
export default createRedisEndpointApp("pipeline");
