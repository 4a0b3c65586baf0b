import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/core/bus.js';

describe('event bus', () => {
  it('isolates a throwing or rejecting listener from the others and the emitter', async () => {
    const bus = new EventBus<{ ping: number }>();
    const got: number[] = [];
    bus.on('ping', () => {
      throw new Error('boom');
    });
    bus.on('ping', async () => {
      throw new Error('async boom');
    });
    bus.on('ping', (n) => {
      got.push(n);
    });
    expect(() => bus.emit('ping', 7)).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([7]);
    expect(bus.listenerErrors).toBe(2);
  });

  it('stops delivering after unsubscribe', () => {
    const bus = new EventBus<{ ping: number }>();
    const got: number[] = [];
    const off = bus.on('ping', (n) => {
      got.push(n);
    });
    bus.emit('ping', 1);
    off();
    bus.emit('ping', 2);
    expect(got).toEqual([1]);
  });
});
