import { describe, expect, it } from 'vitest';
import { AdaptiveWindow } from '../../../src/sync/window.js';
import { Backoff, NETWORK_BACKOFF } from '../../../src/transports/backoff.js';

describe('adaptive in-flight window', () => {
  it('opens by one per acknowledgement while latency stays near its baseline, up to the maximum', () => {
    const w = new AdaptiveWindow(8, 2, 30_000, () => 0);
    for (let i = 0; i < 20; i++) w.acked(40 + (i % 3));
    expect(w.size).toBe(8);
    expect(w.baseline).toBe(40);
  });

  it('halves when acknowledgements come back far slower than the baseline (the path is queueing)', () => {
    const w = new AdaptiveWindow(16, 16, 30_000, () => 0);
    w.acked(50);
    w.acked(1000);
    expect(w.size).toBe(8);
    w.acked(1000);
    expect(w.size).toBe(4);
    // In between (neither near the baseline nor far above it) it holds.
    w.acked(200);
    expect(w.size).toBe(4);
  });

  it('re-learns its baseline after a while, so a path that got slower for good is not punished forever', () => {
    let now = 0;
    const w = new AdaptiveWindow(16, 4, 30_000, () => now);
    w.acked(10);
    now = 31_000;
    w.acked(400);
    expect(w.baseline).toBe(400);
    w.acked(420);
    expect(w.size).toBeGreaterThanOrEqual(4);
  });

  it("never exceeds the broker's Receive Maximum, closes to one on a lost acknowledgement, resets per connection", () => {
    const w = new AdaptiveWindow(32, 2, 30_000, () => 0);
    w.capTo(5);
    for (let i = 0; i < 50; i++) w.acked(5);
    expect(w.size).toBe(5);
    w.lost();
    expect(w.size).toBe(1);
    w.reset();
    expect(w.size).toBe(2);
  });
});

describe('reconnect backoff with full jitter', () => {
  it('draws uniformly below a ceiling that doubles from the base up to the cap', () => {
    const top = new Backoff({ initialMs: 100, maxMs: 1000 }, NETWORK_BACKOFF, () => 0.999_999);
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([99, 199, 399, 799, 999, 999]);
    const bottom = new Backoff({ initialMs: 100, maxMs: 1000 }, NETWORK_BACKOFF, () => 0);
    expect([1, 2, 3].map(() => bottom.next())).toEqual([0, 0, 0]);
    const half = new Backoff({ initialMs: 100, maxMs: 1000 }, NETWORK_BACKOFF, () => 0.5);
    expect([1, 2, 3].map(() => half.next())).toEqual([50, 100, 200]);
  });

  it('starts again from the base after reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 10_000 }, NETWORK_BACKOFF, () => 0.999_999);
    for (let i = 0; i < 10; i++) b.next();
    expect(b.ceiling()).toBe(10_000);
    b.reset();
    expect(b.ceiling()).toBe(100);
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
});
