import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChirpstackSensorStub } from '../../../firmware-stubs/chirpstack-sensor.js';
import { nps405Status } from '../../../firmware-stubs/nwave-payloads.js';
import { TtsSensorStub } from '../../../firmware-stubs/tts-sensor.js';
import type { Gateway } from '../../../src/app/gateway.js';
import type { PortierEvent } from '../../../src/core/events.js';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway } from '../../helpers/gateway.js';
import { type Broker, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';

const BAYS = 500;
const CHIRPSTACK_BAYS = 400;
const ROUNDS = 8;

const eui = (i: number) => `70b3d5e75e01${i.toString(16).padStart(4, '0')}`;
const bayId = (i: number) => `bay-${String(i).padStart(3, '0')}`;

/**
 * 500 bay sensors flapping through a real mosquitto into a real gateway: 400 behind ChirpStack, 100 behind The
 * Things Stack (those with a 200 ms debounce), half of them listed by the zone and half naming it. The zone's last
 * count must equal a count kept independently from what the sensors last said.
 */
describe('a zone of 500 flapping bays', () => {
  let broker: Broker;
  let gateway: Gateway;
  let events: PortierEvent[];
  let publisher: MqttClient;
  const last = new Map<number, boolean>();
  /** uplinks sent to ChirpStack bays (which report every uplink) */
  let sentChirp = 0;

  beforeAll(async () => {
    const dir = tempDir('portier-zone500-');
    mkdirSync(join(dir, 'gpio'));
    broker = await startMosquitto({ extraConfig: ['sys_interval 1'] });
    const devices: Array<{ id: string; driver: string; settings: Record<string, unknown> }> = [];
    const listed: string[] = [];
    for (let i = 0; i < BAYS; i++) {
      const named = i % 2 === 1;
      const base: Record<string, unknown> = { dev_eui: eui(i), codec: 'nwave-nps405' };
      if (named) base.zone = 'market';
      else listed.push(bayId(i));
      if (i < CHIRPSTACK_BAYS) devices.push({ id: bayId(i), driver: 'chirpstack-parking', settings: base });
      else {
        devices.push({
          id: bayId(i),
          driver: 'tts-parking',
          settings: { ...base, device_id: `bay-${i}`, debounce_ms: 200, report: 'change' },
        });
      }
    }
    devices.push({ id: 'market', driver: 'parking-zone', settings: { bays: listed, capacity: BAYS } });
    ({ gateway, events } = await startTestGateway({ dir, brokerUrl: broker.url, devices }));
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'zone500-publisher' });
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await gateway?.stop();
    await broker?.stop();
  });

  it('shares one MQTT subscription per network server across all 500 sensors', async () => {
    const sys = await mqtt.connectAsync(broker.url, { clientId: 'zone500-sys' });
    const counts: number[] = [];
    sys.on('message', (_t, p) => counts.push(Number(p.toString())));
    await sys.subscribeAsync('$SYS/broker/subscriptions/count');
    // The broker publishes the count (retained) whenever it changes, checked every second (sys_interval 1). It
    // counts this client's own $SYS subscription, the gateway's two uplink filters and whatever other services of
    // the gateway listen to (the bridge API): a handful, where one subscription per sensor would be over 500.
    const n = await eventually(() => ((counts.at(-1) ?? 0) >= 3 ? counts.at(-1) : undefined), 15_000, 'a count');
    expect(n).toBeLessThan(10);
    await sys.endAsync();
  });

  it('reports free counts that match an independent count after every sensor flapped', async () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const chirp = Array.from(
      { length: CHIRPSTACK_BAYS },
      (_, i) => new ChirpstackSensorStub({ brokerUrl: '', devEui: eui(i) }),
    );
    const tts = Array.from(
      { length: BAYS - CHIRPSTACK_BAYS },
      (_, k) =>
        new TtsSensorStub({
          brokerUrl: '',
          client: publisher,
          deviceId: `bay-${CHIRPSTACK_BAYS + k}`,
          devEui: eui(CHIRPSTACK_BAYS + k),
        }),
    );
    for (let round = 0; round < ROUNDS; round++) {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < BAYS; i++) {
        // Not every sensor speaks every round; some say the same thing twice (a heartbeat-like repeat).
        if (rnd() < 0.3) continue;
        const occupied = rnd() < 0.5;
        last.set(i, occupied);
        if (i < CHIRPSTACK_BAYS) sentChirp++;
        const payload = nps405Status(occupied, 5);
        if (i < CHIRPSTACK_BAYS) {
          const stub = chirp[i]!;
          batch.push(publisher.publishAsync(stub.topic, JSON.stringify(stub.uplinkEvent(1, payload)), { qos: 1 }));
        } else {
          batch.push(tts[i - CHIRPSTACK_BAYS]!.uplink(1, payload));
        }
      }
      await Promise.all(batch);
    }
    // A sensor that never spoke stays unknown; give each of them one report so the zone can vouch for every bay.
    for (let i = 0; i < BAYS; i++) {
      if (last.has(i)) continue;
      last.set(i, false);
      if (i < CHIRPSTACK_BAYS) sentChirp++;
      const payload = nps405Status(false);
      if (i < CHIRPSTACK_BAYS) {
        const stub = chirp[i]!;
        await publisher.publishAsync(stub.topic, JSON.stringify(stub.uplinkEvent(1, payload)), { qos: 1 });
      } else await tts[i - CHIRPSTACK_BAYS]!.uplink(1, payload);
    }
    const occupied = [...last.values()].filter(Boolean).length;
    const zoneEvents = () => events.filter((e) => e.type === 'parking.zone');
    await eventually(
      () => {
        const z = zoneEvents().at(-1)?.data;
        return z?.occupied === occupied && z.unknown === undefined;
      },
      60_000,
      `a zone event with ${occupied} occupied`,
    );
    // Every uplink has been decoded and committed (each ChirpStack uplink is one event; every bay's last event says
    // what its sensor last said): nothing pending can change the count afterwards.
    const chirpCount = () =>
      events.filter((e) => e.type === 'parking.occupancy' && Number(e.dev.slice(4)) < CHIRPSTACK_BAYS).length;
    const lastOf = () => {
      const m = new Map<string, boolean>();
      for (const e of events) if (e.type === 'parking.occupancy') m.set(e.dev, e.data.occupied as boolean);
      return m;
    };
    await eventually(
      () => {
        gateway.store.events.flush();
        const seen = lastOf();
        return chirpCount() >= sentChirp && [...last].every(([i, occ]) => seen.get(bayId(i)) === occ);
      },
      60_000,
      'every uplink committed',
    );
    expect(zoneEvents().at(-1)?.data).toEqual({ zone: 'market', capacity: BAYS, occupied, free: BAYS - occupied });
    const status = (await gateway.hosts.get('market')!.command('status', {})) as Record<string, unknown>;
    expect(status).toMatchObject({ zone: 'market', capacity: BAYS, occupied, free: BAYS - occupied, unknown: 0 });
    // Each bay's last occupancy event agrees with what its sensor last said.
    const lastEvent = lastOf();
    for (const [i, occ] of last) expect(lastEvent.get(bayId(i)), bayId(i)).toBe(occ);
    // Every uplink of a ChirpStack bay (they report every uplink) became exactly one committed event.
    expect(chirpCount()).toBe(sentChirp);
  });
});
