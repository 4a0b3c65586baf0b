import { chmodSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { laneOf, type PortierEvent } from '../../../src/core/events.js';
import type { Store } from '../../../src/store/store.js';
import { eventually } from '../../helpers/eventually.js';
import { type Broker, freePort, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';
import {
  CloudConsumer,
  missing,
  openTestSync,
  producedIds,
  settle,
  type TestSync,
  testCloudConfig,
} from './harness.js';
import { TcpGate } from './tcp-gate.js';

/** Records a steady mix of lanes: per tick 8 weather readings, 2 bay states, and an access decision every 10th. */
function startLoad(store: Store, periodMs = 10): { stop(): void; ticks(): number } {
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    for (let i = 0; i < 8; i++) {
      store.events.record({ dev: `weather-${i % 3}`, type: 'weather.reading', data: { temperature_c: tick / 10 } });
    }
    for (let i = 0; i < 2; i++) {
      store.events.record({ dev: `bay-${i}`, type: 'parking.occupancy', data: { occupied: tick % 2 === 0 } });
    }
    if (tick % 10 === 0) {
      store.events.recordNow({ dev: 'door-1', type: 'access.decision', data: { granted: true, reason: 'ok' } });
    }
  }, periodMs);
  return { stop: () => clearInterval(timer), ticks: () => tick };
}

/**
 * The cloud's view is correct when every produced id arrived, every id always with the same seq (duplicates
 * only under the same id), and within each lane the first arrival of each event came in seq order. (Across lanes
 * the drain order is by priority, critical first; `seq` lets the cloud interleave them.)
 */
function expectDelivered(received: PortierEvent[], produced: string[]): { duplicates: number } {
  const seqOf = new Map<string, number>();
  for (const e of received) {
    const prior = seqOf.get(e.id);
    if (prior !== undefined) expect(e.seq, `id ${e.id} arrived with two seqs`).toBe(prior);
    seqOf.set(e.id, e.seq);
  }
  expect(new Set(seqOf.values()).size, 'a seq arrived under two ids').toBe(seqOf.size);
  expect(missing(produced, new Set(seqOf.keys()))).toEqual({ count: 0, sample: [] });
  expect(seqOf.size, 'the cloud received ids the gateway never produced').toBe(new Set(produced).size);
  const lastSeq = new Map<string, number>();
  const seen = new Set<string>();
  for (const e of received) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    const lane = laneOf(e.type);
    expect(e.seq, `lane ${lane} out of order`).toBeGreaterThan(lastSeq.get(lane) ?? 0);
    lastSeq.set(lane, e.seq);
  }
  return { duplicates: received.length - seqOf.size };
}

describe('cloud uplink through outages', () => {
  let broker: Broker | undefined;
  let gw: TestSync | undefined;
  let cloud: CloudConsumer | undefined;
  let gate: TcpGate | undefined;

  afterEach(async () => {
    await gw?.close();
    await cloud?.stop();
    await gate?.close();
    await broker?.stop();
    gw = cloud = gate = broker = undefined;
  });

  it('loses nothing when the cloud broker is stopped under load and started again', async () => {
    const port = await freePort();
    const persist = tempDir('portier-mosq-persist-');
    chmodSync(persist, 0o777); // mosquitto drops to its own user and must write its persistence file here
    broker = await startMosquitto({
      port,
      extraConfig: [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${persist}/`,
      ],
    });
    cloud = await CloudConsumer.start(broker.url, 'cloud-outage');
    gw = openTestSync({ gatewayId: 'gw-outage', config: testCloudConfig(broker.url) });
    gw.sync.start();
    const load = startLoad(gw.store);
    const { sync } = gw;
    await eventually(() => sync.uplink.counters.eventsAcked > 1000, 20_000, 'first thousand acknowledged');

    await broker.stop();
    await eventually(() => sync.connection.state !== 'up', 10_000, 'gateway notices the outage');
    // PUBACKs the broker sent before it stopped are all read by now (they precede the close on the socket).
    const ackedAtStop = sync.uplink.counters.eventsAcked;
    const ticksAtStop = load.ticks();
    await eventually(() => load.ticks() > ticksAtStop + 100, 20_000, 'a second of events during the outage');
    // Nothing can have been acknowledged while the broker was down.
    expect(sync.uplink.counters.eventsAcked).toBe(ackedAtStop);
    expect(sync.outbox.total()).toBeGreaterThan(500);

    await broker.restart();
    await eventually(() => sync.connection.state === 'up', 20_000, 'gateway reconnects');
    const ticksAtRestart = load.ticks();
    await eventually(() => load.ticks() > ticksAtRestart + 50, 20_000, 'events after the restart');
    load.stop();
    gw.store.events.flush();
    const produced = producedIds(gw.store);
    await settle(() => cloud!.ids().size >= produced.length && sync.uplink.idle(), 60_000);

    expectDelivered(cloud.events(), produced);
    expect(sync.connection.connects).toBeGreaterThanOrEqual(2);
    expect(sync.outbox.total()).toBe(0);
  }, 120_000);

  it('resends what was in flight when the network drops mid-batch, five times over', async () => {
    broker = await startMosquitto();
    gate = await TcpGate.open(broker.port);
    cloud = await CloudConsumer.start(broker.url, 'cloud-cut');
    // Small batches and a wide window keep many batches in flight at every cut.
    gw = openTestSync({
      gatewayId: 'gw-cut',
      config: testCloudConfig(gate.url, { batch_max_events: 20, max_inflight: 32 }),
    });
    gw.sync.start();
    const load = startLoad(gw.store, 5);
    const { sync } = gw;
    for (let cut = 0; cut < 5; cut++) {
      const before = sync.uplink.counters.eventsAcked;
      await eventually(() => sync.uplink.counters.eventsAcked > before + 300, 20_000, `traffic before cut ${cut}`);
      await gate.cut();
      await eventually(() => sync.connection.state !== 'up', 20_000, `gateway notices cut ${cut}`);
      await gate.reopen();
      await eventually(() => sync.connection.state === 'up', 20_000, `gateway back after cut ${cut}`);
    }
    load.stop();
    gw.store.events.flush();
    const produced = producedIds(gw.store);
    await settle(() => cloud!.ids().size >= produced.length && sync.uplink.idle(), 60_000);
    expectDelivered(cloud.events(), produced);
    expect(gate.connections).toBeGreaterThanOrEqual(6);
  }, 120_000);
});
