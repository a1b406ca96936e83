import type { EndpointName } from "../core/api.ts";
import type { Command } from "./command.ts";
import { decr } from "./decr.ts";
import { del } from "./delete.ts";
import { exists } from "./exists.ts";
import { expire } from "./expire.ts";
import { extend } from "./extend.ts";
import { get } from "./get.ts";
import { hdel } from "./hdel.ts";
import { health } from "./health.ts";
import { hget } from "./hget.ts";
import { hgetall } from "./hgetall.ts";
import { hincrby } from "./hincrby.ts";
import { hset } from "./hset.ts";
import { incr } from "./incr.ts";
import { keys } from "./keys.ts";
import { lock } from "./lock.ts";
import { mget } from "./mget.ts";
import { mset } from "./mset.ts";
import { set } from "./set.ts";
import { setex } from "./setex.ts";
import { ttl } from "./ttl.ts";
import { unlock } from "./unlock.ts";

/**
 * The registry: every command unit by its endpoint name. The native HTTP app, the serverless
 * functions and the embedded `CachedStore` all run commands from here.
 */
export const COMMANDS: { readonly [N in EndpointName]: Command } = {
  set,
  setex,
  get,
  delete: del,
  exists,
  ttl,
  expire,
  incr,
  decr,
  hset,
  hget,
  hgetall,
  hdel,
  hincrby,
  mset,
  mget,
  keys,
  lock,
  unlock,
  extend,
  health,
};

export {
  type Command,
  CommandContext,
  defineCommand,
  type ExecuteOptions,
  execute,
  type Outcome,
} from "./command.ts";
