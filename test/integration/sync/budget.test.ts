import { afterEach, describe, expect, it } from 'vitest';
import type { PortierEvent } from '../../../src/core/events.js';
import { LANE_CODES } from '../../../src/store/event-log.js';
import { eventually } from '../../helpers/eventually.js';
import { type Broker, freePort, startMosquitto } from '../../helpers/mosquitto.js';
import { CloudConsumer, openTestSync, type TestSync, testCloudConfig } from './harness.js';
import { TcpGate } from './tcp-gate.js';

const MiB = 1024 * 1024;
const tick = () => new Promise((r) => setImmediate(r));

function laneCount(gw: TestSync, lane: number): number {
  return (gw.store.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE lane = ?').get(lane) as { n: number }).n;
}

describe('disk budget', () => {
  let broker: Broker | undefined;
  let gw: TestSync | undefined;
  let cloud: CloudConsumer | undefined;
  let gate: TcpGate | undefined;

  afterEach(async () => {
    await gw?.close();
    await cloud?.stop();
    await gate?.close();
    await broker?.stop();
    gw = cloud = broker = gate = undefined;
  });

  it('keeps every critical event when telemetry exhausts the budget offline, counts the shed, reports it', async () => {
    // The cloud is unreachable for the whole "week": the gateway's route to it opens only at the end, once the
    // cloud's consumer is subscribed (a broker drops what nobody subscribed to).
    const port = await freePort();
    const route = await freePort();
    // A weather station every 10 s of simulated time, four stations: ~8 MB of readings against a 2 MiB budget.
    let wall = Date.parse('2030-03-01T00:00:00Z');
    gw = openTestSync({
      gatewayId: 'gw-budget',
      config: testCloudConfig(`mqtt://127.0.0.1:${route}`, { disk_budget_bytes: 2 * MiB, telemetry_downsample_s: 60 }),
      clock: { wall: () => wall, isSynced: () => true },
    });
    gw.sync.start();
    const critical: PortierEvent[] = [];
    let telemetry = 0;
    for (let i = 0; i < 30_000; i++) {
      wall += 2500;
      gw.store.events.record({
        dev: `weather-${i % 4}`,
        type: 'weather.reading',
        data: { temperature_c: 20 + (i % 10) / 10, humidity_pct: 50, pressure_hpa: 1013.2, wind_speed_ms: 3.4 },
      });
      telemetry++;
      if (i % 300 === 0) {
        critical.push(gw.store.events.recordNow({ dev: 'door-1', type: 'access.decision', data: { granted: true } }));
      }
      if (i % 500 === 0) await tick();
    }
    gw.store.events.flush();
    const result = await gw.sync.budget.enforce();

    // Critical: all still there, none shed.
    expect(laneCount(gw, LANE_CODES.critical)).toBe(critical.length);
    const totals = gw.sync.budget.totals();
    expect(totals.critical).toBeUndefined();
    // Telemetry: shed by the policy (downsampling first), and every shed event counted.
    const shedTelemetry = Object.values(totals.telemetry ?? {}).reduce((a, b) => a + b, 0);
    expect(totals.telemetry?.downsampled).toBeGreaterThan(0);
    expect(laneCount(gw, LANE_CODES.telemetry)).toBe(telemetry - shedTelemetry);
    // The disk came back: the pages in use are within the budget again.
    expect(result.overBudget).toBe(false);
    expect(gw.sync.budget.usedBytes()).toBeLessThanOrEqual(2 * MiB);
    // The newest reading of each station survived.
    const newest = gw.store.db
      .prepare(
        `SELECT e.dev AS dev FROM outbox o JOIN events e ON e.seq = o.seq WHERE o.lane = 2 ORDER BY o.seq DESC LIMIT 4`,
      )
      .all() as Array<{ dev: string }>;
    expect(new Set(newest.map((r) => r.dev)).size).toBe(4);

    // The cloud comes back: every critical event arrives, and a gateway.health report with the shed counts.
    gw.sync.health.report();
    gw.store.events.flush();
    broker = await startMosquitto({ port });
    cloud = await CloudConsumer.start(broker.url, 'cloud-budget');
    gate = await TcpGate.open(port, route);
    const consumer = cloud;
    const sync = gw.sync;
    await eventually(() => sync.connection.state === 'up' && sync.uplink.idle(), 30_000, 'backlog drained');
    const received = consumer.events();
    const ids = new Set(received.map((e) => e.id));
    for (const e of critical) expect(ids.has(e.id)).toBe(true);
    expect(received.filter((e) => e.type === 'weather.reading').length).toBe(telemetry - shedTelemetry);
    const health = received.filter((e) => e.type === 'gateway.health' && e.dev === 'gw-budget').at(-1);
    expect(health).toBeDefined();
    expect(health!.data.shed).toEqual(totals);
    expect((health!.data.outbox as { critical: { count: number } }).critical.count).toBe(critical.length);
  }, 120_000);
});
