import type { RedisCommand } from "./command.ts";
import { HASH_COMMANDS } from "./hashes.ts";
import { KEY_COMMANDS } from "./keys.ts";
import { scriptingCommands } from "./scripting.ts";
import { SERVER_COMMANDS } from "./server.ts";
import { STRING_COMMANDS } from "./strings.ts";

/** Every Redis command tierkv serves, by its lower-case name. */
export const REDIS_COMMANDS: ReadonlyMap<string, RedisCommand> = new Map(
  [
    ...STRING_COMMANDS,
    ...KEY_COMMANDS,
    ...HASH_COMMANDS,
    ...SERVER_COMMANDS,
    ...scriptingCommands((name) => REDIS_COMMANDS.get(name)),
  ].map((c) => [c.name, c]),
);

export { type RedisCommand, RedisContext, redisString, runRedis } from "./command.ts";
export { RedisError, type Reply, Status } from "./reply.ts";
