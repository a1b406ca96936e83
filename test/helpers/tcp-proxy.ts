import { createConnection, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on loopback in front of a database, to make it fail the ways a network or a host
 * does: silent (bytes held, not refused, as a partition or a frozen host), or down (open
 * connections cut and new ones refused, as a stopped server), and back again on the same port.
 */
export class FaultProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  /** What arrived while silent, to pass on once woken, as a frozen host's buffers would. */
  readonly #held: (() => void)[] = [];
  #server: Server | undefined;
  #port = 0;
  #silent = false;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** Starts listening (on the port it had before, once it has had one); resolves with the port. */
  async listen(): Promise<number> {
    const server = createServer((client) => this.#pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as { port: number }).port;
    return this.#port;
  }

  /** A database URL whose host and port are the proxy's. */
  url(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.host = `127.0.0.1:${this.#port}`;
    return url.toString();
  }

  #pipe(client: Socket): void {
    const upstream = createConnection(this.#target.port, this.#target.host);
    const forward = (from: Socket, to: Socket) =>
      from.on("data", (chunk: Buffer) => {
        if (this.#silent) this.#held.push(() => to.write(chunk));
        else to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  }

  /** Stops passing bytes either way: the peers see a silent network, not a closed one. */
  silence(): void {
    this.#silent = true;
  }

  wake(): void {
    this.#silent = false;
    for (const pass of this.#held.splice(0)) pass();
  }

  /** Cuts every open connection and refuses new ones, as a database that stopped. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.resetAndDestroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again, on the same port. */
  async up(): Promise<void> {
    await this.listen();
  }

  async close(): Promise<void> {
    this.#held.length = 0;
    await this.down();
  }
}
