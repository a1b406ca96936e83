import type { Engine } from "../engine/engine.ts";

/** Upper bounds of the latency histogram's buckets, in seconds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One endpoint's latency histogram: a count per bucket (and one past the last), and the sum. */
interface Histogram {
  counts: Float64Array;
  sum: number;
  count: number;
}

/** Database failures, by kind: unreachable, or too slow (`KV_DB_TIMEOUT_MS`). */
export type DatabaseFailure = "unavailable" | "timeout";

/**
 * The instance's counters, in Prometheus's text format at `GET /metrics`. Recording a request is
 * a few additions on plain numbers (no labels hashed, no objects made), so it costs next to
 * nothing on the hot path; the L1, sweep and pool figures are read from the engine when the
 * page is asked for.
 */
export class Metrics {
  readonly #started = Date.now();
  /** Requests by endpoint, then by status. */
  readonly #requests = new Map<string, Map<number, number>>();
  readonly #latency = new Map<string, Histogram>();
  readonly #failures: Record<DatabaseFailure, number> = { unavailable: 0, timeout: 0 };
  #aborts = 0;
  #limited = 0;

  /** Counts a request answered with `status` after `seconds`. */
  request(endpoint: string, status: number, seconds: number): void {
    let byStatus = this.#requests.get(endpoint);
    if (byStatus === undefined) {
      byStatus = new Map();
      this.#requests.set(endpoint, byStatus);
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    let histogram = this.#latency.get(endpoint);
    if (histogram === undefined) {
      histogram = { counts: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 };
      this.#latency.set(endpoint, histogram);
    }
    let i = 0;
    while (i < BUCKETS.length && seconds > (BUCKETS[i] as number)) i++;
    histogram.counts[i] = (histogram.counts[i] ?? 0) + 1;
    histogram.sum += seconds;
    histogram.count++;
  }

  /** Counts a request that failed on the database. */
  databaseFailure(kind: DatabaseFailure): void {
    this.#failures[kind]++;
  }

  /** Counts a client that hung up before its answer. */
  clientAbort(): void {
    this.#aborts++;
  }

  /** Counts a request refused by the rate limit. */
  rateLimited(): void {
    this.#limited++;
  }

  /** The Prometheus text exposition (version 0.0.4) of every counter. */
  render(engine: Engine): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };

    family("tierkv_requests_total", "counter", "Requests answered, by endpoint and HTTP status.");
    for (const [endpoint, byStatus] of this.#requests) {
      for (const [status, n] of byStatus) {
        out.push(`tierkv_requests_total{endpoint="${endpoint}",status="${status}"} ${n}`);
      }
    }
    family("tierkv_request_duration_seconds", "histogram", "Time from a request's arrival to its answer.");
    for (const [endpoint, h] of this.#latency) {
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += h.counts[i] as number;
        out.push(`tierkv_request_duration_seconds_bucket{endpoint="${endpoint}",le="${le}"} ${cumulative}`);
      });
      out.push(`tierkv_request_duration_seconds_bucket{endpoint="${endpoint}",le="+Inf"} ${h.count}`);
      out.push(`tierkv_request_duration_seconds_sum{endpoint="${endpoint}"} ${h.sum}`);
      out.push(`tierkv_request_duration_seconds_count{endpoint="${endpoint}"} ${h.count}`);
    }

    const { hits, misses, evictions } = engine.l1.counts;
    family("tierkv_l1_hits_total", "counter", "L1 lookups answered from memory.");
    out.push(`tierkv_l1_hits_total ${hits}`);
    family("tierkv_l1_misses_total", "counter", "L1 lookups that went to the database.");
    out.push(`tierkv_l1_misses_total ${misses}`);
    family("tierkv_l1_evictions_total", "counter", "L1 entries pushed out by KV_L1_MAX_ENTRIES.");
    out.push(`tierkv_l1_evictions_total ${evictions}`);
    family("tierkv_l1_entries", "gauge", "Entries the L1 holds now.");
    out.push(`tierkv_l1_entries ${engine.l1.size}`);

    family(
      "tierkv_database_errors_total",
      "counter",
      "Requests that failed on the database: unreachable, or past KV_DB_TIMEOUT_MS.",
    );
    for (const [kind, n] of Object.entries(this.#failures)) {
      out.push(`tierkv_database_errors_total{kind="${kind}"} ${n}`);
    }
    const trips = engine.store.roundTrips?.();
    if (trips !== undefined) {
      family(
        "tierkv_database_round_trips_total",
        "counter",
        "Statements and transactions sent to the database.",
      );
      out.push(`tierkv_database_round_trips_total ${trips.count}`);
      family(
        "tierkv_database_round_trip_seconds_total",
        "counter",
        "Time the database round trips took in all.",
      );
      out.push(`tierkv_database_round_trip_seconds_total ${trips.seconds}`);
    }
    const pool = engine.store.pool?.();
    if (pool !== undefined) {
      family("tierkv_database_pool_connections", "gauge", "Pooled database connections, by state.");
      out.push(`tierkv_database_pool_connections{state="open"} ${pool.total}`);
      out.push(`tierkv_database_pool_connections{state="idle"} ${pool.idle}`);
      family("tierkv_database_pool_waiting", "gauge", "Callers waiting for a pooled connection.");
      out.push(`tierkv_database_pool_waiting ${pool.waiting}`);
    }

    family("tierkv_sweeps_total", "counter", "Sweeps of expired rows run.");
    out.push(`tierkv_sweeps_total ${engine.sweeps.runs}`);
    family("tierkv_swept_rows_total", "counter", "Expired rows the sweeps deleted.");
    out.push(`tierkv_swept_rows_total ${engine.sweeps.rows}`);
    family("tierkv_client_aborts_total", "counter", "Clients that hung up before their answer.");
    out.push(`tierkv_client_aborts_total ${this.#aborts}`);
    family("tierkv_rate_limited_total", "counter", "Requests refused by the rate limit.");
    out.push(`tierkv_rate_limited_total ${this.#limited}`);

    family("process_start_time_seconds", "gauge", "When the instance started, in Unix seconds.");
    out.push(`process_start_time_seconds ${Math.floor(this.#started / 1000)}`);
    const memory = (globalThis as { process?: { memoryUsage?: () => { rss: number; heapUsed: number } } })
      .process?.memoryUsage;
    if (typeof memory === "function") {
      const { rss, heapUsed } = memory();
      family("process_resident_memory_bytes", "gauge", "Resident memory of the process.");
      out.push(`process_resident_memory_bytes ${rss}`);
      family("nodejs_heap_used_bytes", "gauge", "JavaScript heap in use.");
      out.push(`nodejs_heap_used_bytes ${heapUsed}`);
    }
    return `${out.join("\n")}\n`;
  }
}
