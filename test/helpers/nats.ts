import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, stopProcess, waitForPort } from './mosquitto.js';
import { tempDir } from './tmp.js';

export interface NatsNode {
  name: string;
  /** mqtt://127.0.0.1:<port>, the node's MQTT listener (MQTT 3.1.1, QoS 0 and 1) */
  mqttUrl: string;
  monitorPort: number;
  proc: ChildProcess;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** True once every live node has both routes and knows the JetStream meta leader. */
  ready(): Promise<boolean>;
  /** SIGKILL one node and wait for it to be gone. */
  kill(node: NatsNode): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real distributed MQTT broker for tests: `size` nats-server processes (Debian's package) on loopback, clustered
 * by routes, each with JetStream (which NATS's MQTT support stores sessions and QoS 1 messages in, replicated
 * across the cluster) and an MQTT listener. Wait for `ready()` before connecting: MQTT clients are refused until
 * JetStream has a meta leader.
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = tempDir('portier-nats-');
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({
      client: await freePort(),
      route: await freePort(),
      monitor: await freePort(),
      mqtt: await freePort(),
    })),
  );
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`).join(', ');
  const logs = ports.map(() => '');
  const nodes: NatsNode[] = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const conf = join(dir, `${name}.conf`);
    writeFileSync(
      conf,
      `server_name: ${name}
listen: 127.0.0.1:${p.client}
http: 127.0.0.1:${p.monitor}
jetstream { store_dir: "${join(dir, name)}" }
cluster { name: portier-test, listen: 127.0.0.1:${p.route}, routes: [${routes}] }
mqtt { listen: 127.0.0.1:${p.mqtt} }
`,
    );
    const proc = spawn('nats-server', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (chunk: Buffer) => {
      logs[i] = (logs[i] + chunk.toString()).slice(-2000);
    });
    return { name, mqttUrl: `mqtt://127.0.0.1:${p.mqtt}`, monitorPort: p.monitor, proc };
  });
  // The MQTT listener opens once JetStream is up, which on a loaded machine can take a while.
  await Promise.all(
    ports.map((p, i) =>
      waitForPort(p.mqtt, 30_000).catch((err: Error) => {
        const n = nodes[i]!;
        const state = n.proc.exitCode === null ? 'running' : `exited ${n.proc.exitCode}`;
        throw new Error(`${err.message}: ${n.name} ${state}; its log ends:\n${logs[i]}`);
      }),
    ),
  );
  const alive = () => nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
  return {
    nodes,
    async ready() {
      const live = alive();
      const checks = await Promise.all(
        live.map(async (n) => {
          const [jsz, routez] = await Promise.all([
            monitor(n, '/jsz') as Promise<{ meta_cluster?: { leader?: string } } | undefined>,
            monitor(n, '/routez') as Promise<{ num_routes?: number } | undefined>,
          ]);
          return Boolean(jsz?.meta_cluster?.leader) && (routez?.num_routes ?? 0) >= live.length - 1;
        }),
      );
      return checks.every(Boolean);
    },
    async kill(node) {
      const gone = new Promise<void>((resolve) => node.proc.once('exit', () => resolve()));
      node.proc.kill('SIGKILL');
      await gone;
    },
    async stop() {
      await Promise.all(nodes.map((n) => stopProcess(n.proc)));
    },
  };
}

async function monitor(node: NatsNode, path: string): Promise<unknown> {
  try {
    const res = await fetch(`http://127.0.0.1:${node.monitorPort}${path}`);
    return res.ok ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}
