import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nps405Status } from '../../firmware-stubs/nwave-payloads.js';
import type { PortierEvent } from '../../src/core/events.js';
import { eventually, PortierProcess } from '../helpers/daemon.js';
import { type Rig, startRig } from '../helpers/rig.js';

/** Every event the daemon published on the local broker after committing it. */
class EventWatcher {
  readonly events: PortierEvent[] = [];
  private constructor(private readonly client: MqttClient) {}

  static async start(url: string): Promise<EventWatcher> {
    const client = await mqtt.connectAsync(url, { clientId: `watcher-${process.pid}-${Date.now()}` });
    const w = new EventWatcher(client);
    client.on('message', (_t, payload) => w.events.push(JSON.parse(payload.toString()) as PortierEvent));
    await client.subscribeAsync('portier/+/event', { qos: 0 });
    return w;
  }

  of(dev: string, type?: string): PortierEvent[] {
    return this.events.filter((e) => e.dev === dev && (type === undefined || e.type === type));
  }

  async stop(): Promise<void> {
    await this.client.endAsync();
  }
}

const ready = (l: { msg?: string }) => l.msg === 'gateway ready';

describe('the daemon as a process, with its devices on real wires', () => {
  let rig: Rig;
  let watcher: EventWatcher;

  beforeAll(async () => {
    rig = await startRig();
    watcher = await EventWatcher.start(rig.broker.url);
  });
  afterAll(async () => {
    await watcher?.stop();
    await rig?.stop();
  });

  it('keeps every logged event, with seq gapless and unique, across kill -9 and a restart', async () => {
    const daemon = new PortierProcess(['run', '--config', rig.configPath]);
    await daemon.waitFor(ready, 20_000, 'gateway ready');
    // Stubs keep sending while the daemon dies: bays flapping every 10 ms, Davis every 300 ms.
    let occupied = false;
    const flapper = setInterval(() => {
      occupied = !occupied;
      for (const bay of rig.bays) void bay.uplink(1, nps405Status(occupied)).catch(() => undefined);
    }, 10);
    try {
      await eventually(() => watcher.events.length >= 300, 30_000, '300 events published');
      daemon.kill('SIGKILL');
      const exit = await daemon.exited;
      expect(exit.signal).toBe('SIGKILL');
      const seenBeforeKill = new Set(watcher.events.map((e) => e.id));

      const again = new PortierProcess(['run', '--config', rig.configPath]);
      await again.waitFor(ready, 20_000, 'gateway ready after restart');
      const before = watcher.events.length;
      await eventually(() => watcher.events.length >= before + 50, 20_000, 'events after restart');
      again.kill('SIGTERM');
      const stopped = await again.exited;
      expect(stopped.code).toBe(0);

      const db = new BetterSqlite3(join(rig.stateDir, 'portier.db'), { readonly: true });
      const rows = db.prepare('SELECT seq, id FROM events ORDER BY seq').all() as Array<{ seq: number; id: string }>;
      db.close();
      const ids = new Set(rows.map((r) => r.id));
      for (const id of seenBeforeKill) expect(ids.has(id)).toBe(true);
      expect(ids.size).toBe(rows.length);
      rows.forEach((r, i) => {
        expect(r.seq).toBe(i + 1);
      });
    } finally {
      clearInterval(flapper);
    }
  });

  it('reports the serial device down when unplugged and up within 5 s of its return, while the others keep working', async () => {
    const daemon = new PortierProcess(['run', '--config', rig.configPath]);
    try {
      await daemon.waitFor(ready, 20_000, 'gateway ready');
      const start = watcher.events.length;
      await eventually(
        () => watcher.events.slice(start).some((e) => e.dev === 'davis-1' && e.type === 'weather.reading'),
        15_000,
        'a Davis reading',
      );
      await rig.davis.stop();
      await rig.davisPty.stop();
      const down = await eventually(
        () =>
          watcher.events
            .slice(start)
            .find((e) => e.dev === 'davis-1' && e.type === 'device.health' && e.data.up === false),
        10_000,
        'davis-1 down',
      );
      // The bays keep working while the console is unplugged.
      await rig.bays[0]!.uplink(1, nps405Status(true));
      await rig.bays[0]!.uplink(1, nps405Status(false));
      await eventually(
        () => watcher.events.some((e) => e.dev === 'bay-1' && e.type === 'parking.occupancy' && e.seq > down.seq),
        10_000,
        'a bay event during the outage',
      );
      await rig.davisPty.start();
      await rig.davis.start();
      const back = Date.now();
      await eventually(
        () =>
          watcher.events.find(
            (e) => e.dev === 'davis-1' && e.type === 'device.health' && e.data.up === true && e.seq > down.seq,
          ),
        5_000,
        'davis-1 up within 5 s of its return',
      );
      expect(Date.now() - back).toBeLessThan(5_000);
      await eventually(
        () => watcher.events.some((e) => e.dev === 'davis-1' && e.type === 'weather.reading' && e.seq > down.seq),
        10_000,
        'readings again',
      );
    } finally {
      daemon.kill('SIGTERM');
      await daemon.exited;
    }
  });

  it('rejects a malformed ChirpStack message, a bad Davis CRC and a 10 KB QR line, counted, and keeps running', async () => {
    const daemon = new PortierProcess(['run', '--config', rig.configPath]);
    try {
      await daemon.waitFor(ready, 20_000, 'gateway ready');
      const rejected = (dev: string, reason: string) => (l: Record<string, unknown>) =>
        l.msg === 'input rejected' && l.device === dev && l.reason === reason;

      // The subscription is live once a good uplink comes back as an event.
      const first = watcher.events.length;
      await eventually(
        () => {
          void rig.bays[0]!.uplink(1, nps405Status(true));
          return watcher.events.slice(first).some((e) => e.dev === 'bay-1');
        },
        15_000,
        'bay-1 subscribed',
      );
      await rig.bays[0]!.publishRaw('{"deviceInfo": {"devEui": "70b3d5e75e000001"}, "fPort": "one", "data": 42}');
      const envelope = await daemon.waitFor(rejected('bay-1', 'bad_envelope'), 10_000, 'bad ChirpStack envelope');
      expect(envelope.count).toBe(1);
      await rig.bays[0]!.uplink(9, Buffer.from([0x01]));
      await daemon.waitFor(rejected('bay-1', 'wrong_port'), 10_000, 'wrong port');

      await daemon.waitFor((l) => l.msg === 'device up' && l.device === 'davis-1', 15_000, 'davis up');
      rig.davis.corrupt(1);
      const crc = await daemon.waitFor(rejected('davis-1', 'bad_crc'), 10_000, 'bad CRC');
      expect(crc.count).toBeGreaterThanOrEqual(1);

      await rig.qr.writeRaw(`${'A'.repeat(10 * 1024)}\r\n`);
      const long = await daemon.waitFor(rejected('qr-1', 'line_too_long'), 10_000, 'long QR line');
      expect(long.length).toBeGreaterThan(2048);

      // Still running, still deciding: a good uplink after all that becomes an event.
      const mark = watcher.events.length;
      await rig.bays[1]!.uplink(1, nps405Status(true));
      await eventually(
        () => watcher.events.slice(mark).some((e) => e.dev === 'bay-2' && e.type === 'parking.occupancy'),
        10_000,
        'a bay event after the bad input',
      );
      expect(daemon.proc.exitCode).toBeNull();
    } finally {
      daemon.kill('SIGTERM');
      const exit = await daemon.exited;
      expect(exit.code).toBe(0);
    }
  });
});
