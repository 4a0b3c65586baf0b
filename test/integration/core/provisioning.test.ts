import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProvisioningError } from '../../../src/core/errors.js';
import { startTestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

function setup() {
  const dir = tempDir('portier-prov-');
  const gpioDir = join(dir, 'gpio');
  mkdirSync(gpioDir);
  return { dir, gpioDir };
}

describe('run-time provisioning', () => {
  it('adds a device validated by its driver schema, starts it, audits it durably, and keeps it across a restart', async () => {
    const { dir, gpioDir } = setup();
    let tg = await startTestGateway({ dir, gpioDir, devices: [] });
    const { action } = await tg.gateway.provisioning.upsert(
      { id: 'service-room', driver: 'gpio-relay-lock', name: 'Service room', settings: { relay_pin: 22 } },
      'cli',
    );
    expect(action).toBe('added');
    expect(tg.gateway.hosts.has('service-room')).toBe(true);
    const audit = tg.gateway.store.events.tail(10, { type: 'provisioning.change' });
    expect(audit.map((e) => e.data)).toEqual([
      { action: 'added', device: 'service-room', driver: 'gpio-relay-lock', actor: 'cli' },
    ]);
    await tg.gateway.stop();

    tg = await startTestGateway({ dir, gpioDir, devices: [] });
    expect(tg.gateway.hosts.has('service-room')).toBe(true);
    expect(tg.gateway.store.devices.get('service-room')?.config.name).toBe('Service room');
    await tg.gateway.provisioning.remove('service-room', 'api');
    expect(tg.gateway.hosts.has('service-room')).toBe(false);
    expect(tg.gateway.store.devices.get('service-room')).toBeUndefined();
    await tg.gateway.stop();
  });

  it('refuses a bad request whole, with every problem by field, and changes nothing', async () => {
    const { dir, gpioDir } = setup();
    const tg = await startTestGateway({ dir, gpioDir, devices: [] });
    const attempt = tg.gateway.provisioning.upsert(
      { id: 'Bad Id', driver: 'gpio-relay-lock', settings: { relay_pin: 40, colour: 'red' } },
      'api',
    );
    await expect(attempt).rejects.toBeInstanceOf(ProvisioningError);
    const problems = await attempt.catch((e: ProvisioningError) => e.problems);
    expect(problems).toEqual([
      expect.stringMatching(/^id: expected a device id/),
      expect.stringMatching(/^relay_pin: .*0-27/),
      expect.stringMatching(/^\(root\): unknown key "colour"/),
    ]);
    await expect(
      tg.gateway.provisioning.upsert({ id: 'x', driver: 'warp-drive', settings: {} }, 'api'),
    ).rejects.toThrow(/driver: unknown driver "warp-drive"/);
    expect(tg.gateway.store.devices.list()).toEqual([]);
    expect(tg.gateway.store.events.tail(10, { type: 'provisioning.change' })).toEqual([]);
    await tg.gateway.stop();
  });

  it('leaves devices of the config file to the file', async () => {
    const { dir, gpioDir } = setup();
    const tg = await startTestGateway({
      dir,
      gpioDir,
      devices: [{ id: 'door', driver: 'gpio-relay-lock', settings: { relay_pin: 17 } }],
    });
    await expect(tg.gateway.provisioning.remove('door', 'api')).rejects.toThrow(/declared in the config file/);
    await expect(
      tg.gateway.provisioning.upsert({ id: 'door', driver: 'gpio-relay-lock', settings: { relay_pin: 18 } }, 'api'),
    ).rejects.toThrow(/declared in the config file/);
    expect(tg.gateway.hosts.has('door')).toBe(true);
    await tg.gateway.stop();
  });
});
