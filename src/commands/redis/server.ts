import { type RedisCommand, redisCommand } from "./command.ts";
import { RedisError, Status } from "./reply.ts";

// Commands that touch no key.

const ping = redisCommand(
  "ping",
  -1,
  false,
  async (_, args) => {
    if (args.length > 1) throw new RedisError("ERR wrong number of arguments for 'ping' command");
    return args.length === 0 ? new Status("PONG") : (args[0] as string);
  },
  "none",
);

const echo = redisCommand("echo", 2, false, async (_, [message]) => message as string, "none");

/** TIME: seconds and microseconds of the instance's clock, as strings. */
const time = redisCommand(
  "time",
  1,
  false,
  async (r) => {
    const ms = r.engine.clock.now();
    return [String(Math.floor(ms / 1000)), String((ms % 1000) * 1000)];
  },
  "none",
);

export const SERVER_COMMANDS: readonly RedisCommand[] = [ping, echo, time];
