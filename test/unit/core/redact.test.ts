import { describe, expect, it } from 'vitest';
import { redactSecrets, redactSettings } from '../../../src/core/redact.js';

describe('redacting device settings for the admin API and the bridge API', () => {
  it('hides secret-looking values at any depth and keeps the rest', () => {
    const settings = {
      name: 'Town hall roof',
      enabled: true,
      passkey: '34B6B4C3A1D6E2F0A9B8C7D6E5F4A3B2', // Ecowitt PASSKEY
      dev_eui: '70b3d5e75e000001',
      lorawan: { app_key: '2B7E151628AED2A6ABF7158809CF4F3C', join_eui: '0000000000000000' },
      servers: [{ url: 'mqtts://broker', password: 'hunter2' }],
      client_secret: '',
      relay_pin: 17,
    };
    expect(redactSettings(settings)).toEqual({
      passkey: '[redacted]',
      dev_eui: '70b3d5e75e000001',
      lorawan: { app_key: '[redacted]', join_eui: '0000000000000000' },
      servers: [{ url: 'mqtts://broker', password: '[redacted]' }],
      client_secret: '',
      relay_pin: 17,
    });
    expect(redactSecrets({ name: 'x', psk: 'abc' })).toEqual({ name: 'x', psk: '[redacted]' });
  });
});
