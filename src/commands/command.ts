import type { z } from "zod";
import { type EndpointName, type EndpointSpec, NATIVE_API } from "../core/api.ts";
import { KvError } from "../core/errors.ts";
import { attempt, chain, type MaybePromise } from "../core/types.ts";
import type { Engine, ReadOptions } from "../engine/engine.ts";
import type { FieldSelection, KvStore, Snapshot, SnapshotSource } from "../engine/types.ts";

/** What the L1 keeps after a write: the key's new state, with the expiry it got. */
export interface Kept {
  key: string;
  snapshot: Snapshot;
  expiresAt: number | null;
}

/** One command: its input, the keys it writes, and how it runs against the engine. */
export interface Command<S extends z.ZodType = z.ZodType, R = unknown> {
  readonly name: EndpointName;
  /** Its row of the native API: method, read or write, L1, retries. */
  readonly spec: EndpointSpec;
  /** The input, validated at the edge; the unit trusts what it parses to. */
  readonly input: S;
  /** The keys a write changes: the L1 drops their entries before and after it runs. */
  writes?(input: z.output<S>): readonly string[];
  /** What L1 may keep after the write (`startedAt`: the engine's clock before it began). */
  keep?(input: z.output<S>, result: R, startedAt: number): Kept | undefined;
  /** Runs it: a read L1 answers returns its result at once, without a promise. */
  run(ctx: CommandContext, input: z.output<S>): MaybePromise<R>;
}

/** Declares a command unit; its API row comes from `NATIVE_API` by name. */
export function defineCommand<S extends z.ZodType, R>(
  name: EndpointName,
  unit: Omit<Command<S, R>, "name" | "spec">,
): Command<S, R> {
  return { name, spec: NATIVE_API[name], ...unit };
}

/** What a unit runs with: the store, and reads that record whether L1 answered them. */
export class CommandContext {
  readonly engine: Engine;
  /** How its reads use L1: skipped (`noCache`), or only what was read after an instant. */
  readonly reads: ReadOptions;
  #hit: boolean | undefined;

  constructor(engine: Engine, reads: ReadOptions = {}) {
    this.engine = engine;
    this.reads = reads;
  }

  /** The store's own operations (writes, and reads that never use L1). */
  get store(): KvStore & SnapshotSource {
    return this.engine.store;
  }

  /** A key's snapshot, from L1 (at once) when it holds it. */
  read(key: string, fields: FieldSelection): MaybePromise<Snapshot> {
    return chain(this.engine.read(key, fields, this.reads), (read) => {
      this.#hit = (this.#hit ?? true) && read.hit;
      return read.value;
    });
  }

  /** Snapshots of many keys (hashes without fields), from L1 (at once) when it holds them all. */
  readMany(keys: string[]): MaybePromise<Map<string, Snapshot>> {
    return chain(this.engine.readMany(keys, this.reads), (read) => {
      this.#hit = (this.#hit ?? true) && read.hit;
      return read.value;
    });
  }

  /** Counts in the cache outcome of a read done elsewhere (a unit run on the same behalf). */
  record(cache: "HIT" | "MISS" | undefined): void {
    if (cache !== undefined) this.#hit = (this.#hit ?? true) && cache === "HIT";
  }

  /** Whether L1 answered every read (`undefined` when the unit read nothing through it). */
  get cache(): "HIT" | "MISS" | undefined {
    return this.#hit === undefined ? undefined : this.#hit ? "HIT" : "MISS";
  }
}

/** How a command ended, with the cache outcome of its reads even when it failed. */
export type Outcome =
  | { ok: true; result: unknown; cache: "HIT" | "MISS" | undefined }
  | { ok: false; error: KvError; cache: "HIT" | "MISS" | undefined };

/** Options of `execute`: how the command's reads use L1. */
export type ExecuteOptions = ReadOptions;

/**
 * Runs a command on an engine with a validated input: writes inside `Engine.write` with the
 * keys the unit names. A `KvError` comes back as the outcome; anything else (a bug) is thrown.
 * A read that L1 answers has its outcome at once.
 */
export function execute<S extends z.ZodType, R>(
  command: Command<S, R>,
  engine: Engine,
  input: z.output<S>,
  options: ExecuteOptions = {},
): MaybePromise<Outcome> {
  const ctx = new CommandContext(engine, options);
  return attempt(
    () =>
      chain(
        command.writes === undefined ? command.run(ctx, input) : written(command, engine, ctx, input),
        (result): Outcome => ({ ok: true, result, cache: ctx.cache }),
      ),
    (error) => {
      if (error instanceof KvError) return { ok: false, error, cache: ctx.cache };
      throw error;
    },
  );
}

/** Runs a write inside `Engine.write` with the keys the unit names. */
function written<S extends z.ZodType, R>(
  command: Command<S, R>,
  engine: Engine,
  ctx: CommandContext,
  input: z.output<S>,
): Promise<R> {
  const startedAt = engine.clock.now();
  return engine.write(
    command.writes?.(input) ?? [],
    () => command.run(ctx, input),
    command.keep === undefined ? undefined : (r) => command.keep?.(input, r, startedAt),
  );
}
