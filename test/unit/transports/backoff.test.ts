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
