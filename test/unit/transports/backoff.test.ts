import { describe, expect, it } from 'vitest';
import { ErrorCode, isPortierError } from '../../../src/core/errors.js';
import { Backoff, NETWORK_BACKOFF, SERIAL_BACKOFF } from '../../../src/transports/backoff.js';

describe('Backoff', () => {
  it('doubles its ceiling from initialMs up to maxMs and draws each delay in [0, ceiling]', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000 }, NETWORK_BACKOFF);
    const ceilings: number[] = [];
    for (let i = 0; i < 8; i++) {
      const ceiling = b.ceiling();
      ceilings.push(ceiling);
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
    expect(ceilings).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
    b.reset();
    expect(b.ceiling()).toBe(100);
  });

  it('jitters: draws at the cap spread over the range instead of repeating one value', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 1000 }, SERIAL_BACKOFF);
    const draws = Array.from({ length: 200 }, () => b.next());
    expect(new Set(draws).size).toBeGreaterThan(50);
    expect(Math.min(...draws)).toBeLessThan(500);
    expect(Math.max(...draws)).toBeGreaterThan(500);
  });

  it('caps serial links at 2 s by default', () => {
    const b = new Backoff(undefined, SERIAL_BACKOFF);
    for (let i = 0; i < 20; i++) expect(b.next()).toBeLessThanOrEqual(2000);
    expect(b.ceiling()).toBe(2000);
  });

  it('lets a single setting move the other default out of its way', () => {
    const low = new Backoff({ maxMs: 50 }, NETWORK_BACKOFF);
    expect([low.initialMs, low.maxMs]).toEqual([50, 50]);
    const high = new Backoff({ initialMs: 20_000 }, NETWORK_BACKOFF);
    expect([high.initialMs, high.maxMs]).toEqual([20_000, 20_000]);
  });

  it('refuses settings that cannot work', () => {
    for (const s of [{ initialMs: 0 }, { initialMs: 500, maxMs: 100 }, { initialMs: Number.NaN }]) {
      let caught: unknown;
      try {
        new Backoff(s, NETWORK_BACKOFF);
      } catch (err) {
        caught = err;
      }
      expect(isPortierError(caught, ErrorCode.ConfigInvalid)).toBe(true);
    }
  });
});

describe('Backoff with a pinned draw (the cloud reconnect)', () => {
  const net = { initialMs: 100, maxMs: 1000 };

  it('draws uniformly below a ceiling that doubles from the base up to the cap', () => {
    const top = new Backoff(net, NETWORK_BACKOFF, () => 0.999_999);
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([99, 199, 399, 799, 999, 999]);
    const bottom = new Backoff(net, NETWORK_BACKOFF, () => 0);
    expect([1, 2, 3].map(() => bottom.next())).toEqual([0, 0, 0]);
    const half = new Backoff(net, NETWORK_BACKOFF, () => 0.5);
    expect([1, 2, 3].map(() => half.next())).toEqual([50, 100, 200]);
  });

  it('spreads the delays of many gateways over the whole interval', () => {
    const delays = Array.from({ length: 2000 }, () => {
      const b = new Backoff({ initialMs: 1000, maxMs: 60_000 }, NETWORK_BACKOFF);
      b.next();
      b.next();
      return b.next(); // ceiling 4000 ms
    });
    expect(Math.min(...delays)).toBeLessThan(400);
    expect(Math.max(...delays)).toBeGreaterThan(3600);
    expect(Math.max(...delays)).toBeLessThan(4000);
  });

  it('keeps the ceiling at quickMaxMs while the peer was away briefly, then grows to a tenth of the absence', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 60_000, quickMaxMs: 5000 }, NETWORK_BACKOFF, () => 0.999_999);
    for (let i = 0; i < 10; i++) b.next(30_000);
    // Ten failed attempts, but only 30 s away: a restarting node is looked for at least every 5 s.
    expect(b.ceiling(30_000)).toBe(5000);
    expect(b.ceiling(59_000)).toBe(5900);
    expect(b.ceiling(200_000)).toBe(20_000);
    expect(b.ceiling(3_600_000)).toBe(60_000);
    // Without quickMaxMs the full cap applies at once (as the local links have it).
    const plain = new Backoff({ initialMs: 1000, maxMs: 60_000 }, NETWORK_BACKOFF, () => 0.999_999);
    for (let i = 0; i < 10; i++) plain.next(30_000);
    expect(plain.ceiling(30_000)).toBe(60_000);
  });
});
