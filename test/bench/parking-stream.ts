/**
 * The parking benchmark's stream: a town of LoRaWAN bay sensors of every supported make, three quarters behind
 * ChirpStack and a quarter behind The Things Stack, each uplink a real envelope around a real vendor payload
 * (the codecs' test vectors with the occupancy bit set or cleared). Deterministic for a seed, so the publisher
 * process and the gateway agree on the devices.
 */
import { ChirpstackSensorStub } from '../../firmware-stubs/chirpstack-sensor.js';
import { nps405Status } from '../../firmware-stubs/nwave-payloads.js';
import { TtsSensorStub } from '../../firmware-stubs/tts-sensor.js';

export const SENSORS = 2000;
const TTS_SHARE = 4;

const DO201_FREE = Buffer.from(
  '8000310217' + '06B4' + '0000' + '0161' + '0010' + 'FFF6FFF0' + '8B2D' + '0001' + '0081',
  'hex',
);

function withByte(b: Buffer, at: number, value: number): Buffer {
  const c = Buffer.from(b);
  c[at] = value;
  return c;
}

/** Vendor payloads (fPort, bytes) for a free and an occupied bay. */
const PAYLOADS: Record<string, { port: number; free: Buffer; occupied: Buffer }> = {
  'nwave-nps405': { port: 1, free: nps405Status(false, 12), occupied: nps405Status(true, 40) },
  'nwave-nps310': { port: 1, free: nps405Status(false, 3), occupied: nps405Status(true, 7) },
  'bosch-tps110': { port: 1, free: Buffer.from('00', 'hex'), occupied: Buffer.from('01', 'hex') },
  // TTN lorawan-devices em400-mud example: 257 mm is a car; 2000 mm the floor.
  'milesight-em400-mud': {
    port: 85,
    free: Buffer.from('0175640367f8000482d007050000', 'hex'),
    occupied: Buffer.from('0175640367f80004820101050000', 'hex'),
  },
  // TTN lorawan-devices do201 example telemetry; the park-alarm nibble set for a car.
  'dingtek-do201': { port: 3, free: DO201_FREE, occupied: withByte(DO201_FREE, 7, 0x10) },
};
const CODECS = Object.keys(PAYLOADS);

export interface BenchSensor {
  id: string;
  devEui: string;
  codec: string;
  server: 'chirpstack' | 'tts';
}

export function sensors(n = SENSORS): BenchSensor[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `bay-${String(i).padStart(4, '0')}`,
    devEui: `70b3d5e75e02${i.toString(16).padStart(4, '0')}`,
    codec: CODECS[i % CODECS.length]!,
    server: i % TTS_SHARE === 0 ? 'tts' : 'chirpstack',
  }));
}

/** The device entries a gateway needs for these sensors. */
export function deviceEntries(
  list: BenchSensor[],
): Array<{ id: string; driver: string; settings: Record<string, unknown> }> {
  return list.map((s) => ({
    id: s.id,
    driver: s.server === 'tts' ? 'tts-parking' : 'chirpstack-parking',
    settings: { dev_eui: s.devEui, codec: s.codec, zone: 'bench-zone' },
  }));
}

/** `count` uplinks, round-robin over the sensors, each flipping a coin for the bay's state. */
export function* uplinks(list: BenchSensor[], count: number, seed = 1): Generator<{ topic: string; body: string }> {
  const stubs = list.map((s) =>
    s.server === 'tts'
      ? new TtsSensorStub({ brokerUrl: '', deviceId: s.id, devEui: s.devEui })
      : new ChirpstackSensorStub({ brokerUrl: '', devEui: s.devEui }),
  );
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const k = i % list.length;
    const s = list[k]!;
    const p = PAYLOADS[s.codec]!;
    // A high bit: the low bits of this LCG only alternate.
    const payload = (x >> 16) & 1 ? p.occupied : p.free;
    const stub = stubs[k]!;
    const body =
      stub instanceof TtsSensorStub ? stub.uplinkMessage(p.port, payload) : stub.uplinkEvent(p.port, payload);
    yield { topic: stub.topic, body: JSON.stringify(body) };
  }
}
