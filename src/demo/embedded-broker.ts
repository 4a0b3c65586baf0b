import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * An in-process MQTT broker (aedes) on loopback, so the demo needs no external service. Only the demo uses it:
 * deployments and tests use mosquitto.
 */
export async function startEmbeddedBroker(port = 0): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  return {
    url: `mqtt://127.0.0.1:${bound}`,
    port: bound,
    async close() {
      // Close the broker first: it ends the client connections, which server.close() would wait for.
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
