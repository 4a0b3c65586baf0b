import { ChirpstackSensorStub } from '../../../firmware-stubs/chirpstack-sensor.js';
import { CoapBaySensorStub } from '../../../firmware-stubs/coap-bay-sensor.js';
import { DavisConsoleStub } from '../../../firmware-stubs/davis-console.js';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import { LoopDetectorStub } from '../../../firmware-stubs/loop-detector.js';
import { MaxbotixSensorStub } from '../../../firmware-stubs/maxbotix-sensor.js';
import { nps405Status } from '../../../firmware-stubs/nwave-payloads.js';
import { createPtyPair } from '../../../firmware-stubs/pty-pair.js';
import { QrScannerStub } from '../../../firmware-stubs/qr-scanner.js';
import { TtsSensorStub } from '../../../firmware-stubs/tts-sensor.js';
import { driverContract } from './contract.js';

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
