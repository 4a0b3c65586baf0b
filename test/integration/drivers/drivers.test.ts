import { describe, expect, it } from 'vitest';
import { DRIVERS } from '../../../devices/index.js';
import { encodeCard } from '../../../devices/readers/wiegand-codec.js';
import { ChirpstackSensorStub } from '../../../firmware-stubs/chirpstack-sensor.js';
import { CoapBaySensorStub } from '../../../firmware-stubs/coap-bay-sensor.js';
import { DavisConsoleStub } from '../../../firmware-stubs/davis-console.js';
import { EcowittStationStub } from '../../../firmware-stubs/ecowitt-station.js';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import { LcusRelayBoardStub } from '../../../firmware-stubs/lcus-relay-board.js';
import { LoopDetectorStub } from '../../../firmware-stubs/loop-detector.js';
import { MaxbotixSensorStub } from '../../../firmware-stubs/maxbotix-sensor.js';
import { NmeaStationStub } from '../../../firmware-stubs/nmea-station.js';
import { nps405Status } from '../../../firmware-stubs/nwave-payloads.js';
import { createPtyPair } from '../../../firmware-stubs/pty-pair.js';
import { QrScannerStub } from '../../../firmware-stubs/qr-scanner.js';
import { Rtl433PublisherStub } from '../../../firmware-stubs/rtl433-publisher.js';
import { ShellyHtStub } from '../../../firmware-stubs/shelly-ht.js';
import { TasmotaRelayStub } from '../../../firmware-stubs/tasmota-relay.js';
import { ToiletCabinStub } from '../../../firmware-stubs/toilet-cabin.js';
import { TtsSensorStub } from '../../../firmware-stubs/tts-sensor.js';
import { WiegandReaderStub } from '../../../firmware-stubs/wiegand-reader.js';
import { SimGpioDevice } from '../../../src/transports/gpio/sim.js';
import { freePort } from '../../helpers/mosquitto.js';
import { contracted, driverContract, NO_BAD_INPUT } from './contract.js';

driverContract('gpio-relay-lock', async ({ gpioDir }) => {
  const door = new GpioDoorStub({ dir: gpioDir, relayLine: 5, contactLine: 6, walkThrough: false });
  await door.start();
  let open = false;
  return {
    settings: { relay_pin: 5, contact_pin: 6, contact_debounce_ms: 0 },
    async produce() {
      open = !open;
      if (open) door.open();
      else door.close();
    },
    stop: () => door.stop(),
  };
});

driverContract('serial-qr-reader', async ({ dir }) => {
  const pty = await createPtyPair(dir);
  const scanner = new QrScannerStub(pty.devicePath);
  await scanner.start();
  return {
    settings: { path: pty.gatewayPath, lock: 'door-1' },
    // A reader emits credentials on the bus, not events; its event is its health.
    async produce() {
      await scanner.scan(
        'PT1:NCFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0BGJLFX3R3VHXK.PJ:2DPF6R:5SVBHABVCNN95SWMPHQUHQN%A0SOE+QQAB-HQ/HQ7IR.SQEEOK9SAI4- 7Y15KBPD34  QWSP0WRGTQFNPLIR.KQNA7N95U/3FJCTG90OARH9P1J4HGZJKBEG%123ZC$0BCI757TLXKIBTV5TN%2LXK-$CH4TSXKZ4S/$K%0KPQ1HEP9.PZE9Q$95:UENEUW6646936HRTO$9KZ56DE/.QC$Q3J62:6LZ6O59++9-G9+E93ZM$96TV6NRNJ1',
      );
    },
    produceBad: { reason: 'line_too_long', run: () => scanner.writeRaw(`${'9'.repeat(4096)}\n`) },
    async stop() {
      await scanner.stop();
      await pty.stop();
    },
  };
});

driverContract('chirpstack-parking', async ({ broker }) => {
  const sensor = new ChirpstackSensorStub({ brokerUrl: broker.url, devEui: '70b3d5e75e00c0de' });
  await sensor.start();
  let occupied = false;
  return {
    settings: { dev_eui: '70B3D5E75E00C0DE', codec: 'nwave-nps405' },
    async produce() {
      occupied = !occupied;
      await sensor.uplink(1, nps405Status(occupied));
    },
    produceBad: { reason: 'wrong_port', run: () => sensor.uplink(77, Buffer.from([1])) },
    stop: () => sensor.stop(),
  };
});

driverContract('davis-vantage', async ({ dir }) => {
  const pty = await createPtyPair(dir);
  const console = new DavisConsoleStub({ path: pty.devicePath, intervalMs: 200 });
  await console.start();
  return {
    settings: { path: pty.gatewayPath, packet_timeout_ms: 3000 },
    // The console streams on its own once asked; producing is waiting.
    async produce() {},
    produceBad: {
      reason: 'bad_crc',
      async run() {
        console.corrupt(1);
      },
    },
    async stop() {
      await console.stop();
      await pty.stop();
    },
  };
});

driverContract('tts-parking', async ({ broker }) => {
  const sensor = new TtsSensorStub({ brokerUrl: broker.url, deviceId: 'bay-17', devEui: '70b3d5e75e00c0df' });
  await sensor.start();
  let occupied = false;
  return {
    settings: { dev_eui: '70B3D5E75E00C0DF', codec: 'nwave-nps405', device_id: 'bay-17' },
    async produce() {
      occupied = !occupied;
      await sensor.uplink(1, nps405Status(occupied));
    },
    produceBad: { reason: 'bad_envelope', run: () => sensor.publishRaw('{"end_device_ids":{"device_id":"bay-17"}}') },
    stop: () => sensor.stop(),
  };
});

driverContract('loop-detector', async ({ gpioDir }) => {
  const loop = new LoopDetectorStub({ dir: gpioDir, line: 12 });
  await loop.start();
  let present = false;
  return {
    settings: { pin: 12, contact_debounce_ms: 0, debounce_ms: 0 },
    async produce() {
      present = !present;
      loop.set(present);
    },
    stop: () => loop.stop(),
  };
});

driverContract('maxbotix-parking', async ({ dir }) => {
  const pty = await createPtyPair(dir);
  const sonar = new MaxbotixSensorStub({ path: pty.devicePath, intervalMs: 50 });
  await sonar.start();
  let occupied = false;
  return {
    settings: { path: pty.gatewayPath, debounce_ms: 0 },
    async produce() {
      occupied = !occupied;
      sonar.park(occupied);
    },
    produceBad: { reason: 'garbage', run: () => sonar.writeRaw('X0042\r') },
    async stop() {
      await sonar.stop();
      await pty.stop();
    },
  };
});

driverContract('coap-parking', async () => {
  const sensor = new CoapBaySensorStub();
  const url = await sensor.start();
  let occupied = false;
  return {
    settings: { url, mode: 'observe' },
    async produce() {
      occupied = !occupied;
      sensor.set(occupied);
    },
    produceBad: { reason: 'truncated', run: async () => sensor.setRaw('[{"n":"presence","vb":tr') },
    stop: () => sensor.stop(),
  };
});

driverContract('parking-zone', async () => {
  // A zone has no wire: its input is its bays' events; with refresh_s it restates its counts every second.
  return {
    settings: { bays: ['bay-a', 'bay-b'], capacity: 3, refresh_s: 1 },
    async produce() {},
    stop: async () => undefined,
  };
});

driverContract('wiegand-reader', async ({ gpioDir }) => {
  const reader = new WiegandReaderStub({ dir: gpioDir, d0Line: 20, d1Line: 21 });
  await reader.start();
  return {
    settings: { d0_pin: 20, d1_pin: 21, lock: 'door-1', frame_gap_ms: 150 },
    // One frame at a time: the contract asks again every 25 ms while it waits.
    produce: () => (reader.busy ? Promise.resolve() : reader.card(26, 101, 251)),
    produceBad: {
      reason: 'parity_error',
      run: () => reader.send(encodeCard(26, 101, 251).map((b, i) => (i === 0 ? ((1 - b) as 0 | 1) : b))),
    },
    stop: () => reader.stop(),
  };
});

driverContract('http-pass-reader', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/door/door-1/open`;
  const post = (body: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body }).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
  return {
    settings: { host: '127.0.0.1', port, locks: ['door-1'], rate_burst: 100, rate_per_minute: 600 },
    async produce() {
      await post('PT1:NOT-A-REAL-PASS');
    },
    produceBad: { reason: 'body_too_large', run: async () => void (await post('A'.repeat(10_000))) },
    stop: async () => undefined,
  };
});

driverContract('lcus-usb-relay', async ({ dir, gpioDir }) => {
  const pty = await createPtyPair(dir, { gateway: 'relay', device: 'relay.device' });
  const board = new LcusRelayBoardStub(pty.devicePath);
  await board.start();
  const contact = new SimGpioDevice(gpioDir);
  contact.set(22, 0);
  let open = false;
  return {
    settings: { path: pty.gatewayPath, contact_pin: 22, contact_debounce_ms: 0 },
    async produce() {
      open = !open;
      contact.set(22, open ? 1 : 0);
    },
    produceBad: { reason: 'unexpected_data', run: () => board.babble(Buffer.from('CH1:OFF\r\n')) },
    async stop() {
      contact.close();
      await board.stop();
      await pty.stop();
    },
  };
});

driverContract('tasmota-relay-lock', async ({ broker }) => {
  const relay = new TasmotaRelayStub({ brokerUrl: broker.url, topic: 'tasmota_C0FFEE' });
  await relay.start();
  return {
    settings: { topic: 'tasmota_C0FFEE' },
    // Someone presses the button on the device: the relay toggles and reports it.
    produce: () => relay.press(),
    produceBad: { reason: 'bad_payload', run: () => relay.publishRaw('stat', 'POWER', 'MAYBE') },
    stop: () => relay.stop(),
  };
});

driverContract('public-toilet', async ({ gpioDir }) => {
  const cabin = new ToiletCabinStub({ dir: gpioDir, relayLine: 23, contactLine: 24, boltLine: 25 });
  await cabin.start();
  let bolted = false;
  return {
    settings: { relay_pin: 23, contact_pin: 24, bolt_pin: 25, contact_debounce_ms: 0, bolt_debounce_ms: 0 },
    async produce() {
      bolted = !bolted;
      if (bolted) cabin.bolt();
      else cabin.unbolt();
    },
    stop: () => cabin.stop(),
  };
});

driverContract('rtl433-weather', async ({ broker }) => {
  const rtl = new Rtl433PublisherStub({ brokerUrl: broker.url });
  await rtl.start();
  let t = 10;
  return {
    settings: { model: 'Fineoffset-WH24', station_id: 191 },
    async produce() {
      t += 0.1;
      await rtl.tpms();
      await rtl.reading({ temperatureC: t });
    },
    produceBad: { reason: 'truncated', run: () => rtl.publishRaw('{"model" : "Fineoffset-WH24", "id" : 191, "temp') },
    stop: () => rtl.stop(),
  };
});

driverContract('nmea-weather-station', async ({ dir }) => {
  const pty = await createPtyPair(dir);
  const station = new NmeaStationStub({ path: pty.devicePath, intervalMs: 100 });
  await station.start();
  return {
    settings: { path: pty.gatewayPath },
    // The station talks on its own; producing is waiting.
    async produce() {},
    produceBad: { reason: 'bad_crc', run: () => station.writeRaw('$WIMWV,350.0,R,16.8,N,A*00\r\n') },
    async stop() {
      await station.stop();
      await pty.stop();
    },
  };
});

driverContract('ecowitt-weather', async () => {
  const port = await freePort();
  const passkey = 'A4F1C0DE5B2E44C1B0A1E3D2C4B5A697';
  const station = new EcowittStationStub({ url: `http://127.0.0.1:${port}/data/report/`, passkey });
  // After stop the port is closed and a post fails, as it does for a real console.
  const post = (body?: string) => station.upload(body).catch(() => 0);
  return {
    settings: { listen: '127.0.0.1', port, passkey },
    async produce() {
      await post();
    },
    produceBad: {
      reason: 'bad_passkey',
      async run() {
        await post(station.body('00000000000000000000000000000000'));
      },
    },
    stop: async () => undefined,
  };
});

driverContract('shelly-ht', async () => {
  const port = await freePort();
  const mac = 'A4CF12F454A3';
  const ht = new ShellyHtStub({ mac, host: '127.0.0.1', port });
  await ht.start();
  return {
    settings: { mac, listen: '127.0.0.1', port, multicast: false },
    async produce() {
      await ht.send();
    },
    produceBad: { reason: 'garbage', run: () => ht.send({ payload: '{"X":[]}' }) },
    stop: () => ht.stop(),
  };
});

describe('driver contract coverage', () => {
  it('runs the contract for every registered driver (a new driver without one fails here)', () => {
    expect([...contracted].sort()).toEqual(DRIVERS.map((d) => d.id).sort());
  });

  it('excuses from the rejected-input test only registered drivers, each with a reason', () => {
    const ids = new Set(DRIVERS.map((d) => d.id));
    for (const [id, why] of Object.entries(NO_BAD_INPUT)) {
      expect(ids.has(id), id).toBe(true);
      expect(why.length).toBeGreaterThan(20);
    }
  });
});
