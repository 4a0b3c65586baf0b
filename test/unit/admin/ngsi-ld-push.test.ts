import { createServer, type Server } from 'node:http';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { NgsiLdEntity } from '../../../src/admin/ngsi-ld.js';
import { type NgsiLdPushHandle, startNgsiLdPush } from '../../../src/admin/ngsi-ld-push.js';
import { silentLogger } from '../../../src/core/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort } from '../../helpers/mosquitto.js';

/** A source whose entities the test sets, announcing each change as the gateway's does. */
class FakeSource {
  readonly seeded = Promise.resolve();
  private readonly current = new Map<string, NgsiLdEntity>();
  private listener: ((ids: string[]) => void) | undefined;
  onChange(fn: (ids: string[]) => void) {
    this.listener = fn;
    return () => {
      this.listener = undefined;
    };
  }
  entities(only?: ReadonlySet<string>): NgsiLdEntity[] {
    return [...this.current.values()].filter((e) => !only || only.has(e.id.split(':').at(-1)!));
  }
  set(source: string, status: string): void {
    const id = `urn:ngsi-ld:ParkingSpot:gw:${source}`;
    this.current.set(id, { id, type: 'ParkingSpot', '@context': [], status: { type: 'Property', value: status } });
    this.listener?.([source]);
  }
}

/** A stand-in broker answering every upsert with `status`; records the bodies. */
async function broker(port: number, status: number) {
  const bodies: Array<Array<{ id: string; status: { value: string } }>> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(status === 400 ? '{"type":"BadRequestData"}' : '');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { bodies, close: () => new Promise((r) => server.close(r)) };
}

describe('NGSI-LD push queue', () => {
  let push: NgsiLdPushHandle | undefined;
  let stopBroker: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await push?.close();
    await stopBroker?.();
    push = undefined;
    stopBroker = undefined;
  });

  it('keeps the latest state per entity, drops the oldest beyond max_queue (counted), and sends the rest later', async () => {
    const port = await freePort();
    const source = new FakeSource();
    const registry = new Registry();
    const opts = { url: `http://127.0.0.1:${port}`, batch_size: 10, interval_s: 1, max_queue: 3 };
    push = startNgsiLdPush(source, opts, { registry, log: silentLogger() });
    // The push queues every entity once the seed is in (none yet); from then on, what changes.
    await source.seeded;
    for (const bay of ['a', 'b', 'c', 'd']) source.set(bay, 'free');
    source.set('b', 'occupied');
    source.set('c', 'occupied');
    source.set('b', 'unknown');
    // a was the oldest when d came: dropped. b and c were replaced, not added.
    expect(push.queued).toBe(3);
    const dropped = (await registry.getSingleMetricAsString('portier_ngsi_ld_dropped_total')).trim().split('\n').at(-1);
    expect(dropped).toBe('portier_ngsi_ld_dropped_total{reason="queue_full"} 1');
    // Nothing listens yet: the first attempt fails, then the broker comes up and gets the latest of each.
    await eventually(
      async () => (await registry.getSingleMetric('portier_ngsi_ld_push_failures_total')!.get()).values[0]?.value,
      10_000,
      'a failed attempt',
    );
    const b = await broker(port, 204);
    stopBroker = b.close;
    await eventually(() => push!.queued === 0, 15_000, 'the queue sent');
    const got = Object.fromEntries(b.bodies.flat().map((e) => [e.id.split(':').at(-1), e.status.value]));
    expect(got).toEqual({ b: 'unknown', c: 'occupied', d: 'free' });
  });

  it('does not retry a batch the broker refuses as bad data (400), and counts it', async () => {
    const port = await freePort();
    const b = await broker(port, 400);
    stopBroker = b.close;
    const source = new FakeSource();
    const registry = new Registry();
    const opts = { url: `http://127.0.0.1:${port}`, batch_size: 10, interval_s: 1, max_queue: 10 };
    push = startNgsiLdPush(source, opts, { registry, log: silentLogger() });
    source.set('a', 'free');
    await eventually(() => push!.queued === 0, 10_000, 'the batch settled');
    const refused = (await registry.getSingleMetricAsString('portier_ngsi_ld_dropped_total')).trim().split('\n').at(-1);
    expect(refused).toBe('portier_ngsi_ld_dropped_total{reason="refused"} 1');
    expect(b.bodies).toHaveLength(1);
  });
});
