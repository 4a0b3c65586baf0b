import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { cloudSchema } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openStore } from '../../../src/store/store.js';
import { CloudSync } from '../../../src/sync/service.js';
import { PortierProcess } from '../../helpers/daemon.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';
import { testCloudConfig } from './harness.js';

const HOUR = 3_600_000;

async function portier(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new PortierProcess(args);
  const { code } = await p.exited;
  return {
    code,
    stdout: p.lines.map((l) => (l.raw ? l.msg : JSON.stringify(l))).join('\n'),
    stderr: p.stderr.join('\n'),
  };
}

/** A state dir whose outbox holds events recorded two hours ago (critical, state) and one hour ago (telemetry). */
function backlog(): { dir: string; bytes: Record<string, number> } {
  const dir = tempDir('portier-status-');
  let wall = Date.now() - 2 * HOUR;
  const store = openStore({ stateDir: dir, gatewayId: 'gw-status', log: silentLogger(), clock: { wall: () => wall } });
  for (let i = 0; i < 3; i++) store.events.recordNow({ dev: 'door-1', type: 'access.decision', data: { i } });
  for (let i = 0; i < 5; i++) store.events.record({ dev: 'bay-1', type: 'parking.occupancy', data: { i } });
  store.events.flush();
  wall += HOUR;
  for (let i = 0; i < 7; i++) store.events.record({ dev: 'w-1', type: 'weather.reading', data: { i } });
  store.events.flush();
  const rows = store.db
    .prepare(
      'SELECT o.lane AS lane, SUM(octet_length(e.body)) AS b FROM outbox o JOIN events e USING (seq) GROUP BY o.lane',
    )
    .all() as Array<{ lane: number; b: number }>;
  store.close();
  const names = ['critical', 'state', 'telemetry'];
  return { dir, bytes: Object.fromEntries(rows.map((r) => [names[r.lane], r.b])) };
}

describe('portier outbox status', () => {
  it('prints per lane the count, the oldest age and the bytes, as JSON with --json', async () => {
    const { dir, bytes } = backlog();
    const { code, stdout } = await portier(['outbox', 'status', '--state-dir', dir, '--json']);
    expect(code).toBe(0);
    const s = JSON.parse(stdout) as {
      lanes: Record<string, { count: number; oldest_age_s: number | null; bytes: number }>;
      total: { count: number; bytes: number };
    };
    expect(s.lanes.critical).toMatchObject({ count: 3, bytes: bytes.critical });
    expect(s.lanes.state).toMatchObject({ count: 5, bytes: bytes.state });
    expect(s.lanes.telemetry).toMatchObject({ count: 7, bytes: bytes.telemetry });
    expect(s.lanes.critical!.oldest_age_s).toBeGreaterThanOrEqual(7200);
    expect(s.lanes.telemetry!.oldest_age_s).toBeGreaterThanOrEqual(3600);
    expect(s.lanes.telemetry!.oldest_age_s).toBeLessThan(7200);
    expect(s.total.count).toBe(15);

    const human = await portier(['outbox', 'status', '--state-dir', dir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/critical\s+3\s+2\.0 h/);
    expect(human.stdout).toMatch(/telemetry\s+7\s+60\.\d min/);
  });

  it('fails with one line when there is no database', async () => {
    const { code, stderr } = await portier(['outbox', 'status', '--state-dir', join(tempDir(), 'nothing-here')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^portier outbox status: no database at /);
    expect(stderr.split('\n')).toHaveLength(1);
  });
});

describe('sync metrics', () => {
  it('expose the backlog bytes per lane and the disk budget (count and age are the portier_outbox_* gauges)', async () => {
    const { dir, bytes } = backlog();
    const store = openStore({ stateDir: dir, gatewayId: 'gw-status', log: silentLogger() });
    const registry = new Registry();
    const config = cloudSchema.parse({ url: `mqtt://127.0.0.1:${await freePort()}`, disk_budget_bytes: 8_388_608 });
    const sync = new CloudSync({ config, gatewayId: 'gw-status', store, log: silentLogger(), registry });
    // The backlog on disk is counted on a thread of its own, after the start.
    await sync.outbox.counted;
    const text = await registry.metrics();
    expect(text).toContain(`portier_outbox_backlog_bytes{lane="state"} ${bytes.state}`);
    // One family per meaning: the admin collector's portier_outbox_backlog_events/oldest_age_seconds say these.
    expect(text).not.toMatch(/portier_sync_backlog_(events|age_seconds)/);
    expect(text).toContain('portier_store_budget_bytes 8388608');
    expect(text).toContain('portier_cloud_connected 0');
    await sync.stop();
    store.close();
  });
});

describe('cloud delivery age', () => {
  it('observes each event from its timestamp to the PUBACK that took it out of the outbox', async () => {
    const { dir } = backlog(); // 8 events two hours old, 7 one hour old
    const broker = await startMosquitto();
    const store = openStore({ stateDir: dir, gatewayId: 'gw-status', log: silentLogger() });
    const registry = new Registry();
    const sync = new CloudSync({
      config: testCloudConfig(broker.url),
      gatewayId: 'gw-status',
      store,
      log: silentLogger(),
      registry,
    });
    try {
      sync.start();
      await eventually(() => sync.uplink.counters.eventsAcked === 15, 20_000, 'backlog delivered');
      const text = await registry.metrics();
      const bucket = (le: string) =>
        Number(new RegExp(`^portier_cloud_delivery_age_seconds_bucket\\{le="${le}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
      expect(text).toMatch(/^portier_cloud_delivery_age_seconds_count 15$/m);
      expect(bucket('3600')).toBe(0); // every one waited at least an hour
      expect(bucket('21600')).toBe(15);
      const sum = Number(/^portier_cloud_delivery_age_seconds_sum ([\d.e+]+)$/m.exec(text)?.[1]);
      expect(sum).toBeGreaterThanOrEqual(8 * 7200 + 7 * 3600);
    } finally {
      await sync.stop();
      store.close();
      await broker.stop();
    }
  });
});
