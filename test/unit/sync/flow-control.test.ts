import { describe, expect, it } from 'vitest';
import { AdaptiveWindow } from '../../../src/sync/window.js';

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
