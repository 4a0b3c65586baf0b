import { describe, expect, it } from 'vitest';
import { GatewayCommandHandlers } from '../../../src/app/gateway-commands.js';
import { startTestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

const bundle = (devices: unknown[]) => ({ version: 1, gateway: { id: 'test-gw' }, devices });

describe('cloud commands applied to the gateway', () => {
  it('refuses a bad config bundle whole, with every problem by path, and applies a good one', async () => {
    const tg = await startTestGateway({ dir: tempDir(), devices: [] });
    const h = new GatewayCommandHandlers(tg.gateway);
    try {
      const problems = h.checkConfig(
        bundle([
          { id: 'a', driver: 'gpio-relay-lock', relay_pin: 99 },
          { id: 'b', driver: 'nope' },
        ]),
      );
      expect(problems).toEqual([
        expect.stringMatching(/^devices\[0\]\.relay_pin/),
        expect.stringMatching(/^devices\[1\]\.driver: unknown driver/),
      ]);
      expect(h.checkConfig(bundle([{ id: 'a', driver: 'gpio-relay-lock', relay_pin: 9 }]))).toEqual([]);
      await h.setConfig(bundle([{ id: 'a', driver: 'gpio-relay-lock', relay_pin: 9 }]));
      expect(tg.gateway.hosts.get('a')?.isUp).toBe(true);
    } finally {
      await tg.gateway.stop();
    }
  });

  it('rolls a config back when a device it adds stays down, keeping the devices that were there', async () => {
    const tg = await startTestGateway({ dir: tempDir(), devices: [] });
    const h = new GatewayCommandHandlers(tg.gateway);
    try {
      await h.setConfig(bundle([{ id: 'kept', driver: 'gpio-relay-lock', relay_pin: 5 }]));
      const broken = bundle([
        { id: 'scanner', driver: 'serial-qr-reader', path: '/dev/serial/by-id/not-plugged-in', lock: 'kept' },
      ]);
      await expect(h.setConfig(broken)).rejects.toThrow(/rolled back: scanner did not come up/);
      expect(tg.gateway.store.devices.list().map((d) => d.id)).toEqual(['kept']);
      expect(tg.gateway.hosts.has('scanner')).toBe(false);
      expect(tg.gateway.hosts.get('kept')?.isUp).toBe(true);
    } finally {
      await tg.gateway.stop();
    }
  });
});
