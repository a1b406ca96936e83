/**
 * The bounds of a PostgreSQL pool (node-postgres's options): a statement the server has not
 * answered within `timeoutMs` fails on the client (`query_timeout`: a silent server, a network
 * partition) and its connection is discarded, the server cancels one running longer
 * (`statement_timeout`), a new connection gets as long, and TCP keepalive finds dead peers of
 * idle connections. The Node server and the Worker's PostgreSQL path share them.
 */
export function pgPoolOptions(timeoutMs: number): Record<string, number | boolean> {
  return {
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}
