import { describe, expect, it } from 'vitest';
import type { ZoneStatus } from '../../../devices/parking/parking-zone.js';
import { SimGpioDevice } from '../../../src/transports/gpio/sim.js';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

const loops = [
  { id: 'bay-1', driver: 'loop-detector', settings: { pin: 20, debounce_ms: 0, zone: 'market' } },
  { id: 'bay-2', driver: 'loop-detector', settings: { pin: 21, debounce_ms: 0, zone: 'market' } },
  { id: 'bay-3', driver: 'loop-detector', settings: { pin: 22, debounce_ms: 0, zone: 'market' } },
];
const zone = { id: 'market', driver: 'parking-zone', settings: { capacity: 4 } };

async function status(tg: TestGateway): Promise<ZoneStatus> {
  return (await tg.gateway.hosts.get('market')!.command('status', {})) as ZoneStatus;
}

/** The zone's latest report, once it says `occupied` bays are taken and none is unknown. */
function reported(tg: TestGateway, occupied: number) {
  const last = tg.events.findLast((e) => e.type === 'parking.zone');
  return last && last.data.occupied === occupied && last.data.unknown === undefined ? last : undefined;
}

/**
 * The second start has the zone without its bay sensors (as LoRaWAN bays that stay silent for hours): whatever it
 * knows, it knows from before the restart.
 */
describe('a parking zone across a restart', () => {
  it('knows its bays after a clean stop, without a new report from any of them', async () => {
    const dir = tempDir('portier-zone-restart-');
    const gpioDir = tempDir('portier-zone-gpio-');
    const pins = new SimGpioDevice(gpioDir);
    pins.set(20, 1);
    pins.set(21, 0);
    pins.set(22, 1);
    let tg = await startTestGateway({ dir, gpioDir, devices: [...loops, zone] });
    await eventually(() => reported(tg, 2), 10_000, 'two bays taken');
    pins.set(22, 0);
    await eventually(() => reported(tg, 1), 10_000, 'bay-3 left');
    await tg.gateway.stop();

    tg = await startTestGateway({ dir, gpioDir, devices: [zone] });
    expect(await status(tg)).toMatchObject({ capacity: 4, occupied: 1, free: 3, unknown: 0 });
    // The zone says so at once, for signs and the cloud.
    await eventually(
      () => tg.events.some((e) => e.type === 'parking.zone' && e.data.occupied === 1 && e.data.free === 3),
      5000,
      'parking.zone after the restart',
    );
    await tg.gateway.stop();
  });

  it('after a crash (nothing saved), rebuilds the counts from the event log', async () => {
    const dir = tempDir('portier-zone-crash-');
    const gpioDir = tempDir('portier-zone-gpio-');
    const pins = new SimGpioDevice(gpioDir);
    pins.set(20, 1);
    pins.set(21, 1);
    pins.set(22, 0);
    let tg = await startTestGateway({ dir, gpioDir, devices: [...loops, zone] });
    await eventually(() => reported(tg, 2), 10_000, 'two bays taken');
    await tg.gateway.stop();
    // A crash leaves no saved state, only the committed log: throw the saved state away.
    tg = await startTestGateway({ dir, gpioDir, devices: [] });
    tg.gateway.store.meta.set('device-memory/market', 'not json');
    await tg.gateway.stop();

    tg = await startTestGateway({ dir, gpioDir, devices: [zone] });
    expect(await status(tg)).toMatchObject({ occupied: 2, free: 2, unknown: 0 });
    await tg.gateway.stop();
  });
});
