import { connect, type MqttClient } from 'mqtt';
import { type CloudConfig, cloudSchema } from '../../../src/config/schema.js';
import type { ClockOptions } from '../../../src/core/clock.js';
import type { PortierEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openStore, type Store } from '../../../src/store/store.js';
import type { CommandHandlers } from '../../../src/sync/commands/handlers.js';
import { CloudSync } from '../../../src/sync/service.js';
import { tempDir } from '../../helpers/tmp.js';

/** A cloud section for tests: quick reconnects and short batch ages, everything else as shipped. */
export function testCloudConfig(url: string, overrides: Partial<CloudConfig> = {}): CloudConfig {
  return cloudSchema.parse({
    url,
    reconnect_min_ms: 50,
    reconnect_max_ms: 500,
    batch_max_age_ms: 20,
    ...overrides,
  });
}

export interface TestSync {
  store: Store;
  sync: CloudSync;
  dir: string;
  close(): Promise<void>;
}

/** A store in a temp dir and a CloudSync on it (not started). */
export function openTestSync(opts: {
  gatewayId: string;
  config: CloudConfig;
  dir?: string;
  handlers?: CommandHandlers;
  clock?: ClockOptions;
}): TestSync {
  const dir = opts.dir ?? tempDir('portier-sync-');
  const store = openStore({
    stateDir: dir,
    gatewayId: opts.gatewayId,
    log: silentLogger(),
    clock: opts.clock ?? { trustSystemClock: true },
  });
  const sync = new CloudSync({
    config: opts.config,
    gatewayId: opts.gatewayId,
    store,
    log: silentLogger(),
    ...(opts.handlers ? { handlers: opts.handlers } : {}),
  });
  return {
    store,
    sync,
    dir,
    async close() {
      await sync.stop();
      store.close();
    },
  };
}

/** One received batch: which events, in which order. */
export interface ReceivedBatch {
  gw: string;
  events: PortierEvent[];
}

/**
 * The cloud side: an mqtt.js client with a persistent session (QoS 1, kept an hour) subscribed to every gateway's events, acks
 * and status, keeping everything it receives in arrival order.
 */
export class CloudConsumer {
  readonly batches: ReceivedBatch[] = [];
  readonly acks: Array<Record<string, unknown>> = [];
  readonly status = new Map<string, string>();
  private constructor(readonly client: MqttClient) {}

  static async start(url: string, clientId = `cloud-${Math.random().toString(16).slice(2)}`): Promise<CloudConsumer> {
    // MQTT 5: `clean: false` alone gives a session that expires on disconnect; an hour keeps it (and what the
    // broker queued for it) across a broker restart, as a real cloud consumer would.
    const client = connect(url, {
      clientId,
      clean: false,
      reconnectPeriod: 100,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 3600 },
    });
    const consumer = new CloudConsumer(client);
    client.on('message', (topic, payload) => {
      if (topic.endsWith('/up/events')) {
        const doc = JSON.parse(payload.toString('utf8')) as { gw: string; events: PortierEvent[] };
        consumer.batches.push({ gw: doc.gw, events: doc.events });
      } else if (topic.endsWith('/up/ack')) {
        consumer.acks.push(JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
      } else if (topic.endsWith('/up/status')) {
        consumer.status.set(topic, payload.toString('utf8'));
      }
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(['portier/+/up/events', 'portier/+/up/ack', 'portier/+/up/status'], { qos: 1 });
    return consumer;
  }

  /** Every received event in arrival order (duplicates included). */
  events(): PortierEvent[] {
    return this.batches.flatMap((b) => b.events);
  }

  /** Distinct ids received. */
  ids(): Set<string> {
    return new Set(this.events().map((e) => e.id));
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Poll until `check` is truthy or the time is up; says which, so the caller can assert with a useful message. */
export async function settle(check: () => unknown, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Ids of `want` missing from `have` (a few, for a readable failure) and how many in all. */
export function missing(want: Iterable<string>, have: Set<string>): { count: number; sample: string[] } {
  const out: string[] = [];
  for (const id of want) if (!have.has(id)) out.push(id);
  return { count: out.length, sample: out.slice(0, 5) };
}

/** All ids of the gateway's event log (what it produced), in seq order. */
export function producedIds(store: Store): string[] {
  return (store.db.prepare('SELECT id FROM events ORDER BY seq').all() as Array<{ id: string }>).map((r) => r.id);
}
