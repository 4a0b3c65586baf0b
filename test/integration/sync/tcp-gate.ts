import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP gate between the gateway and the cloud broker: open, it relays bytes both ways; cut, it drops every
 * connection at once (what a lost 4G link looks like to both ends) and refuses new ones until opened again. The
 * broker keeps running, so what it had received and what it had acknowledged are exactly what crossed the wire.
 */
export class TcpGate {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Connections relayed since start. */
  connections = 0;

  private constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async open(targetPort: number, port = 0): Promise<TcpGate> {
    const gate = new TcpGate(port, targetPort);
    await gate.listen(port);
    return gate;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((client) => {
      this.connections++;
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') (this as { port: number }).port = addr.port;
    this.server = server;
  }

  /** Drop every relayed connection mid-stream and refuse new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accept and relay again, on the same port. */
  async reopen(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
