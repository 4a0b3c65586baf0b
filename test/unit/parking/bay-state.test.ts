import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type BaySink, BayTracker, type BayTrackerOptions } from '../../../devices/parking/occupancy/bay-state.js';

interface Recorded {
  events: Array<{ type: string; data: Record<string, unknown> }>;
  health: Array<{ up: boolean; reason?: string }>;
}

function tracker(opts: Partial<BayTrackerOptions> = {}): { bay: BayTracker; rec: Recorded } {
  const rec: Recorded = { events: [], health: [] };
  const sink: BaySink = {
    emit: (type, data) => rec.events.push({ type, data }),
    health: (up, reason) => rec.health.push(reason === undefined ? { up } : { up, reason }),
    now: () => Date.now(),
  };
  const bay = new BayTracker({ bay: 'b1', debounceMs: 0, report: 'change', ...opts }, sink);
  bay.start();
  return { bay, rec };
}

const occupancies = (rec: Recorded) => rec.events.filter((e) => e.type === 'parking.occupancy').map((e) => e.data);

describe('bay state', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2025-03-01T08:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('takes the first report at once and reports only changes in change mode', () => {
    const { bay, rec } = tracker();
    bay.observe({ occupied: false });
    bay.observe({ occupied: false });
    bay.observe({ occupied: true });
    expect(occupancies(rec).map((d) => d.occupied)).toEqual([false, true]);
    expect(occupancies(rec)[1]).toMatchObject({ bay: 'b1', since: '2025-03-01T08:00:00.000Z' });
  });

  it('in every mode restates the state for each confirming report, keeping since and passing extra fields', () => {
    const { bay, rec } = tracker({ report: 'every' });
    bay.observe({ occupied: true, extra: { battery_v: 3.6 } });
    vi.advanceTimersByTime(60_000);
    bay.observe({ occupied: true, extra: { battery_v: 3.5, rssi_dbm: -99 } });
    const out = occupancies(rec);
    expect(out).toHaveLength(2);
    expect(out[1]).toEqual({
      bay: 'b1',
      occupied: true,
      since: '2025-03-01T08:00:00.000Z',
      battery_v: 3.5,
      rssi_dbm: -99,
    });
  });

  it('ignores a flip shorter than the debounce and dates an accepted change from when it was first seen', () => {
    const { bay, rec } = tracker({ debounceMs: 2000 });
    bay.observe({ occupied: false });
    bay.observe({ occupied: true });
    vi.advanceTimersByTime(1500);
    bay.observe({ occupied: false });
    vi.advanceTimersByTime(5000);
    expect(occupancies(rec).map((d) => d.occupied)).toEqual([false]);
    bay.observe({ occupied: true });
    const firstSeen = new Date(Date.now()).toISOString();
    vi.advanceTimersByTime(1999);
    expect(occupancies(rec)).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(occupancies(rec)[1]).toMatchObject({ occupied: true, since: firstSeen });
  });

  it('uses a longer free debounce as hysteresis in time', () => {
    const { bay, rec } = tracker({ debounceMs: 100, freeDebounceMs: 10_000 });
    bay.observe({ occupied: true });
    bay.observe({ occupied: false });
    vi.advanceTimersByTime(9_000);
    bay.observe({ occupied: true });
    vi.advanceTimersByTime(20_000);
    expect(occupancies(rec).map((d) => d.occupied)).toEqual([true]);
  });

  it('frees a distance-sensed bay only beyond threshold plus the hysteresis band', () => {
    const { bay, rec } = tracker({ thresholdM: 1.5, hysteresisM: 0.2 });
    bay.observe({ occupied: false, distance_m: 2.4 });
    bay.observe({ occupied: true, distance_m: 1.45 });
    // A sloping roof: 1.6 m is above the threshold but inside the band, so the car is still there.
    bay.observe({ occupied: false, distance_m: 1.6 });
    bay.observe({ occupied: false, distance_m: 1.69 });
    expect(occupancies(rec).map((d) => d.occupied)).toEqual([false, true]);
    bay.observe({ occupied: false, distance_m: 1.75 });
    expect(occupancies(rec).map((d) => [d.occupied, d.distance_m])).toEqual([
      [false, 2.4],
      [true, 1.45],
      [false, 1.75],
    ]);
  });

  it('raises an overstay alarm after the maximum parking time and clears it when the bay frees', () => {
    const { bay, rec } = tracker({ maxParkingS: 3600, zone: 'market' });
    bay.observe({ occupied: true });
    vi.advanceTimersByTime(3_599_000);
    expect(rec.events.filter((e) => e.type === 'alarm')).toHaveLength(0);
    vi.advanceTimersByTime(1000);
    const alarms = () => rec.events.filter((e) => e.type === 'alarm').map((e) => e.data);
    expect(alarms()).toEqual([
      { alarm: 'overstay', bay: 'b1', zone: 'market', since: '2025-03-01T08:00:00.000Z', max_parking_s: 3600 },
    ]);
    bay.observe({ occupied: false });
    expect(alarms()[1]).toEqual({
      alarm: 'overstay',
      bay: 'b1',
      zone: 'market',
      since: '2025-03-01T08:00:00.000Z',
      max_parking_s: 3600,
      cleared: true,
    });
  });

  it('starts the overstay clock anew for each parking', () => {
    const { bay, rec } = tracker({ maxParkingS: 600 });
    bay.observe({ occupied: true });
    vi.advanceTimersByTime(500_000);
    bay.observe({ occupied: false });
    bay.observe({ occupied: true });
    vi.advanceTimersByTime(500_000);
    expect(rec.events.filter((e) => e.type === 'alarm')).toHaveLength(0);
    vi.advanceTimersByTime(100_000);
    expect(rec.events.filter((e) => e.type === 'alarm')).toHaveLength(1);
  });

  it('reports a silent sensor down after stale_after_s and up again on its next report', () => {
    const { bay, rec } = tracker({ staleAfterS: 900 });
    bay.observe({ occupied: false });
    vi.advanceTimersByTime(899_000);
    bay.observe({});
    vi.advanceTimersByTime(899_000);
    expect(rec.health.filter((h) => !h.up)).toHaveLength(0);
    vi.advanceTimersByTime(1000);
    expect(rec.health.at(-1)).toEqual({ up: false, reason: 'stale: no uplink for 900 s' });
    bay.observe({ occupied: false });
    expect(rec.health.at(-1)).toEqual({ up: true });
  });

  it('is silent after stop, even with a pending change and armed timers', () => {
    const { bay, rec } = tracker({ debounceMs: 1000, maxParkingS: 60, staleAfterS: 10 });
    bay.observe({ occupied: false });
    bay.observe({ occupied: true });
    bay.stop();
    vi.advanceTimersByTime(120_000);
    bay.observe({ occupied: true });
    expect(occupancies(rec)).toHaveLength(1);
    expect(rec.events.filter((e) => e.type === 'alarm')).toHaveLength(0);
    expect(rec.health.filter((h) => !h.up)).toHaveLength(0);
  });
});
