import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { SimGpioDevice } from '../../../src/transports/gpio/sim.js';
import { eventually } from '../../helpers/daemon.js';
import { readParkingStatus, readParkingTable } from '../../helpers/datex-reader.js';
import { type AdminHarness, startAdminHarness } from './harness.js';

describe('GET /datex/parking-status and /datex/parking-table (open data for the city platform)', () => {
  let h: AdminHarness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('serves zone and published bay without a token, read by the paths ParkAPI uses, with a sensor change', async () => {
    h = await startAdminHarness({
      devices: [
        { id: 'bay-a', driver: 'loop-detector', settings: { pin: 20, debounce_ms: 0 } },
        { id: 'bay-b', driver: 'loop-detector', settings: { pin: 21, debounce_ms: 0 } },
        // A disabled bay the town publishes on its own, by its own settings.
        {
          id: 'bay-c',
          driver: 'loop-detector',
          settings: {
            pin: 22,
            debounce_ms: 0,
            datex_publish: true,
            datex_name: 'Behindertenparkplatz Rathaus',
            latitude: 47.6547,
            longitude: 9.4793,
          },
        },
        // Named by bay: published under its device id, counted under its bay name.
        {
          id: 'bay-d',
          driver: 'loop-detector',
          settings: { pin: 23, debounce_ms: 0, bay: 'P-D', datex_publish: true },
        },
        {
          id: 'rathaus',
          driver: 'parking-zone',
          settings: {
            bays: ['bay-a', 'bay-b', 'bay-c', 'P-D'],
            capacity: 4,
            datex_name: { de: 'Rathausplatz', en: 'Town hall square' },
            latitude: 47.65462,
            longitude: 9.47921,
          },
        },
      ],
    });
    const harness = h;
    const loops = new SimGpioDevice(harness.gpioDir);
    loops.set(20, 1);
    loops.set(21, 0);
    loops.set(22, 1);
    loops.set(23, 0);
    await eventually(
      () => harness.events.some((e) => e.type === 'parking.zone' && e.data.occupied === 2 && e.data.free === 2),
      10_000,
      'zone with two bays taken',
    );
    const res = await harness.call('GET', '/datex/parking-status', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    // Well-formed XML, as an independent parser (libxml2's xmllint) reads it.
    execFileSync('xmllint', ['--noout', '-'], { input: res.text });
    const bayC = harness.events.findLast((e) => e.type === 'parking.occupancy' && e.dev === 'bay-c')!;
    const status = readParkingStatus(res.text);
    expect(status.map(({ id, capacity, vacant }) => ({ id, capacity, vacant }))).toEqual([
      { id: 'rathaus', capacity: 4, vacant: 2 },
      { id: 'bay-c', capacity: 1, vacant: 0 },
      { id: 'bay-d', capacity: 1, vacant: 1 },
    ]);
    // The single bay's origin time is when its own state changed.
    expect(status[1]!.originTime).toBe(new Date(bayC.ts).toISOString());

    const table = await harness.call('GET', '/datex/parking-table', { token: null });
    expect(table.status).toBe(200);
    expect(table.headers.get('content-type')).toMatch(/^application\/xml/);
    execFileSync('xmllint', ['--noout', '-'], { input: table.text });
    expect(readParkingTable(table.text)).toEqual([
      {
        id: 'rathaus',
        names: { de: 'Rathausplatz', en: 'Town hall square' },
        capacity: 4,
        lat: 47.65462,
        lon: 9.47921,
      },
      { id: 'bay-c', names: { de: 'Behindertenparkplatz Rathaus' }, capacity: 1, lat: 47.6547, lon: 9.4793 },
      { id: 'bay-d', names: { de: 'P-D' }, capacity: 1, lat: undefined, lon: undefined },
    ]);
  });

  it('answers 404 with a reason on a gateway without parking zones, for both publications', async () => {
    h = await startAdminHarness({ devices: [] });
    for (const url of ['/datex/parking-status', '/datex/parking-table']) {
      const res = await h.call('GET', url, { token: null });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: { code: 'no_zones' } });
    }
  });
});
