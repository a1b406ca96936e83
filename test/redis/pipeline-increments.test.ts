import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasRedis, REDIS_URL, sqlDatabases } from "../helpers/databases.ts";
import { FULL_TOKEN, suiteServer, uniqueId } from "../helpers/harness.ts";

// A pipeline's run of increments of one key starts together and shares one statement (see
// `pipeline`); every slot must still hold what a real Redis answers when it runs the same
// pipeline one command after another: values in between, errors in their own slots, the order
// against other commands on the key, and runs longer than one statement's batch.

type Line = (string | number)[];

/** The answers of a real Redis, slot by slot: the reply, or `{ error }`. */
async function onRedis(redis: IORedis, lines: Line[]): Promise<unknown[]> {
  const results = (await lines
    .reduce((p, line) => p.call(String(line[0]), ...line.slice(1).map(String)), redis.pipeline())
    .exec()) as [Error | null, unknown][];
  return results.map(([error, reply]) => (error ? { error: error.message } : reply));
}

async function onTierkv(url: string, lines: Line[]): Promise<unknown[]> {
  const response = await fetch(`${url}/api/redis/pipeline`, {
    method: "POST",
    headers: { Authorization: `Bearer ${FULL_TOKEN}` },
    body: JSON.stringify(lines),
  });
  expect(response.status).toBe(200);
  const slots = (await response.json()) as { result?: unknown; error?: string }[];
  return slots.map((slot) => (slot.error !== undefined ? { error: slot.error } : slot.result));
}

describe.skipIf(!(await hasRedis()))(
  "a pipeline's runs of increments of one key, against a real Redis",
  () => {
    let redis: IORedis;
    beforeAll(() => {
      redis = new IORedis(REDIS_URL);
    });
    afterAll(() => redis?.disconnect());

    describe.each(sqlDatabases("pipeline_incr"))("on %s", (_label, open) => {
      const running = suiteServer(open);

      /** Runs `build(key)` on both, each on a fresh key of its own, and compares every slot. */
      async function same(build: (key: (name: string) => string) => Line[]): Promise<unknown[]> {
        const theirs = `pi:${uniqueId()}:`;
        const ours = `pi:${uniqueId()}:`;
        try {
          const expected = await onRedis(
            redis,
            build((name) => theirs + name),
          );
          const actual = await onTierkv(
            running().url,
            build((name) => ours + name),
          );
          expect(actual).toEqual(expected);
          return actual;
        } finally {
          const left = await redis.keys(`${theirs}*`);
          if (left.length > 0) await redis.del(...left);
        }
      }

      it("answers each increment of a run the value in between", async () => {
        const replies = await same((k) => [
          ["INCR", k("n")],
          ["INCRBY", k("n"), 5],
          ["DECR", k("n")],
          ["INCR", k("n")],
          ["DECRBY", k("n"), 3],
          ["GET", k("n")],
        ]);
        expect(replies).toEqual([1, 6, 5, 6, 3, "3"]);
      });

      it("keeps the order against other commands of the key and keyless ones", async () => {
        await same((k) => [
          ["INCR", k("n")],
          ["INCR", k("n")],
          ["SET", k("n"), "10"],
          ["INCR", k("n")],
          ["INCRBY", k("n"), 2],
          ["PING"],
          ["INCR", k("n")],
          ["DEL", k("n")],
          ["INCR", k("n")],
          ["INCR", k("m")],
          ["INCR", k("n")],
          ["GET", k("n")],
          ["GET", k("m")],
        ]);
      });

      it("answers errors in their own slots: a bad step, a value that is no integer", async () => {
        await same((k) => [
          ["INCR", k("n")],
          ["INCRBY", k("n"), "x"],
          ["INCR", k("n")],
          ["SET", k("s"), "abc"],
          ["INCR", k("s")],
          ["INCR", k("s")],
          ["DECRBY", k("s"), 2],
          ["GET", k("n")],
        ]);
      });

      it("answers the increments before an overflow, then the overflow, in their slots", async () => {
        // tierkv's counters stop at 2^53−1 (SPEC §3) where Redis's go on to 2^63−1, so this one
        // is checked against the answers of one command after another, not against Redis.
        const key = `pi:${uniqueId()}:big`;
        const replies = await onTierkv(running().url, [
          ["SET", key, String(Number.MAX_SAFE_INTEGER - 2)],
          ["INCR", key],
          ["INCR", key],
          ["INCR", key],
          ["DECR", key],
          ["GET", key],
        ]);
        expect(replies).toEqual([
          "OK",
          Number.MAX_SAFE_INTEGER - 1,
          Number.MAX_SAFE_INTEGER,
          { error: "ERR increment or decrement would overflow" },
          Number.MAX_SAFE_INTEGER - 1,
          String(Number.MAX_SAFE_INTEGER - 1),
        ]);
      });

      it("sends a run of increments of one key as one statement", async () => {
        const trips = async () => {
          const response = await fetch(`${running().url}/metrics`, {
            headers: { Authorization: `Bearer ${FULL_TOKEN}` },
          });
          return Number(/^tierkv_database_round_trips_total (\d+)$/m.exec(await response.text())?.[1]);
        };
        const key = `pi:${uniqueId()}:n`;
        const before = await trips();
        const replies = await onTierkv(
          running().url,
          Array.from({ length: 50 }, (): Line => ["INCR", key]),
        );
        expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        // One after another, they would take 50 round trips.
        expect((await trips()) - before).toBeLessThanOrEqual(2);
      });

      it("keeps a run longer than one statement's batch in order", async () => {
        const replies = await same((k) => [
          ...Array.from(
            { length: 250 },
            (_, i): Line => (i % 3 === 2 ? ["DECR", k("n")] : ["INCRBY", k("n"), 2]),
          ),
          ["GET", k("n")],
        ]);
        expect(replies.at(-1)).toBe(String(replies.at(-2)));
      });
    });
  },
);
