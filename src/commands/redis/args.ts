import { MAX_TTL_MS } from "../../core/limits.ts";
import { createRecord } from "../../core/types.ts";
import { NOT_AN_INTEGER, RedisError } from "./reply.ts";

const INTEGER = /^-?(0|[1-9][0-9]*)$/;
const INT64_MAX = 2n ** 63n - 1n;

/**
 * An integer argument as Redis reads one (`string2ll`: optional minus, no sign, no spaces, no
 * leading zeros, within 64 bits). tierkv's integers are JavaScript's safe integers, so one
 * beyond ±(2^53−1) is refused with the same error Redis gives past 64 bits.
 */
export function integerArg(arg: string): number {
  if (!INTEGER.test(arg) || arg.length > 20) throw new RedisError(NOT_AN_INTEGER);
  const n = Number(arg);
  if (!Number.isSafeInteger(n)) {
    // Within 64 bits Redis would accept it; say so rather than pretend it is malformed.
    if (BigInt(arg) <= INT64_MAX && BigInt(arg) >= -INT64_MAX - 1n)
      throw new RedisError("ERR value is beyond ±(2^53−1), the integer range of tierkv");
    throw new RedisError(NOT_AN_INTEGER);
  }
  return n === 0 ? 0 : n;
}

/**
 * An expiry argument in `unit` ms per step (1,000 for seconds), as milliseconds: Redis's
 * `ERR invalid expire time in '<command>' command` when it is not positive (unless `allowPast`)
 * or too large. tierkv's longest TTL is 2^40 ms (about 34 years).
 */
export function expireArg(arg: string, unit: number, command: string): number {
  const n = integerArg(arg);
  const ms = n * unit;
  if (n <= 0 || ms > MAX_TTL_MS) throw new RedisError(`ERR invalid expire time in '${command}' command`);
  return ms;
}

/** An absolute expiry (`EXAT`, `PXAT`, `EXPIREAT`) in `unit` ms per step, as epoch ms. */
export function expireAtArg(arg: string, unit: number, command: string, allowPast: boolean): number {
  const n = integerArg(arg);
  if ((!allowPast && n <= 0) || !Number.isSafeInteger(n * unit))
    throw new RedisError(`ERR invalid expire time in '${command}' command`);
  return n * unit;
}

/** The argument in upper case, for comparing option names given in any case. */
export function option(arg: string | undefined): string {
  return arg === undefined ? "" : arg.toUpperCase();
}

/** Arguments that alternate names and values (MSET, HSET), as a record; a later name wins. */
export function pairsArg(args: readonly string[], command: string): Record<string, string> {
  if (args.length % 2 !== 0) throw new RedisError(`ERR wrong number of arguments for '${command}' command`);
  const pairs = createRecord<string>();
  for (let i = 0; i < args.length; i += 2) pairs[args[i] as string] = args[i + 1] as string;
  return pairs;
}
