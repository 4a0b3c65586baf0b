import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { SimGpioDevice } from '../../../src/transports/gpio/sim.js';
import { eventually } from '../../helpers/daemon.js';
import { type AdminHarness, startAdminHarness } from './harness.js';

describe('GET /datex/parking-status (open data for the city platform)', () => {
  let h: AdminHarness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('serves the zones as DATEX II XML without a token, with the free count a sensor just changed', async () => {
    h = await startAdminHarness({
      devices: [
        { id: 'bay-a', driver: 'loop-detector', settings: { pin: 20, debounce_ms: 0 } },
        { id: 'bay-b', driver: 'loop-detector', settings: { pin: 21, debounce_ms: 0 } },
        { id: 'rathaus', driver: 'parking-zone', settings: { bays: ['bay-a', 'bay-b'], capacity: 2 } },
      ],
    });
    const harness = h;
    const loops = new SimGpioDevice(harness.gpioDir);
    loops.set(20, 1);
    loops.set(21, 0);
    await eventually(
      () => harness.events.some((e) => e.type === 'parking.zone' && e.data.occupied === 1 && e.data.free === 1),
      10_000,
      'zone with one bay taken',
    );
    const res = await harness.call('GET', '/datex/parking-status', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(res.text).toContain('ParkingStatusPublication');
    expect(res.text).toMatch(/<parkingNumberOfVacantSpaces>1<\/parkingNumberOfVacantSpaces>/);
    // Well-formed XML, as an independent parser (libxml2's xmllint) reads it.
    execFileSync('xmllint', ['--noout', '-'], { input: res.text });
  });

  it('answers 404 with a reason on a gateway without parking zones', async () => {
    h = await startAdminHarness({ devices: [] });
    const res = await h.call('GET', '/datex/parking-status', { token: null });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'no_zones' } });
  });
});
