// A TCP proxy on loopback that a test can cut and restore, to take a database "away" and back in
// each way a connection is lost: refused (cut), reset (RST), closed (FIN), or silently dropped (blackhole).
import { createServer, connect, type Server, type Socket } from 'node:net';

export class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** blackholed: connections are accepted and held, nothing is forwarded either way */
  private holding = false;

  constructor(
    readonly port: number,
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }

  async open(): Promise<void> {
    this.holding = false;
    if (this.server) return;
    this.server = createServer((client) => {
      this.track(client);
      if (this.holding) return void client.pause();
      const upstream = connect(this.targetPort, this.targetHost);
      this.track(upstream);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  /** Stops listening and drops every open connection. */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Resets every open connection (TCP RST); new connections go through. */
  reset(): void {
    for (const s of this.sockets) s.resetAndDestroy();
  }

  /** Closes every open connection cleanly (FIN), as a database restart does; new connections go through. */
  finish(): void {
    for (const s of this.sockets) s.end();
  }

  /** Every open connection and every new one goes silent: no data, no close, no error (until open() again). */
  blackhole(): void {
    this.holding = true;
    for (const s of this.sockets) {
      s.unpipe();
      s.pause();
    }
  }

  /** Ends a blackhole: the held connections are dropped, new ones go through again. */
  async restore(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await this.open();
  }
}
