import { describe, expect, it } from 'vitest';
import { ErrorCode, isTransient, PortierError } from '../../../src/core/errors.js';

describe('PortierError', () => {
  it('groups codes by area and tells transient from permanent failures', () => {
    const closed = new PortierError(ErrorCode.TransportClosed, 'pty gone');
    const bad = new PortierError(ErrorCode.DeviceChecksum, 'bad CRC');
    expect(closed.area).toBe('transport');
    expect(bad.area).toBe('device');
    expect(isTransient(closed)).toBe(true);
    expect(isTransient(bad)).toBe(false);
    expect(isTransient(new Error('plain'))).toBe(false);
  });
});
