import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import { rotateAdminToken } from '../../../src/admin/auth.js';
import { eventually } from '../../helpers/daemon.js';
import { type AdminHarness, startAdminHarness } from './harness.js';

describe('admin API: authentication and devices', () => {
  let h: AdminHarness;
  let door: GpioDoorStub;

  beforeAll(async () => {
    h = await startAdminHarness({
      devices: [{ id: 'file-lock', driver: 'gpio-relay-lock', settings: { relay_pin: 5 } }],
    });
    door = new GpioDoorStub({ dir: h.gpioDir, relayLine: 17, contactLine: 27, walkThrough: false });
    await door.start();
  });
  afterAll(async () => {
    await door?.stop();
    await h?.stop();
  });

  it('refuses /api without the bearer token (RFC 6750 challenge) and serves healthz, the page and loopback metrics', async () => {
    const none = await h.call('GET', '/api/devices', { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="portier"');
    expect(none.body).toEqual({ error: { code: 'unauthorized', message: expect.stringMatching(/bearer token/) } });
    expect((await h.call('GET', '/api/devices', { token: 'A'.repeat(43) })).status).toBe(401);
    expect(
      (await h.call('GET', '/api/devices', { headers: { authorization: `Basic ${h.admin.token}` }, token: null }))
        .status,
    ).toBe(401);
    // probing unknown /api paths without a token learns nothing either
    expect((await h.call('GET', '/api/secret-things', { token: null })).status).toBe(401);

    expect((await h.call('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
    const page = await h.call('GET', '/', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const js = await h.call('GET', '/assets/app.js', { token: null });
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await h.call('GET', '/assets/../../package.json', { token: null })).status).toBe(404);
    const metrics = await h.call('GET', '/metrics', { token: null });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('portier_events_total');
  });

  it('takes a rotated token from the next request on, and refuses the old one', async () => {
    const old = h.admin.token;
    const rotated = rotateAdminToken(h.stateDir).token;
    expect((await h.call('GET', '/api/health', { token: rotated })).status).toBe(200);
    expect((await h.call('GET', '/api/health', { token: old })).status).toBe(401);
    expect(h.admin.token).toBe(rotated);
  });

  it('adds a device validated by its driver, audits it, shows it, changes it and removes it', async () => {
    const put = await h.call('PUT', '/api/devices/door-1', {
      body: { driver: 'gpio-relay-lock', name: 'Service room', settings: { relay_pin: 17, contact_pin: 27 } },
    });
    expect(put.status).toBe(201);
    expect(put.body.action).toBe('added');
    expect(put.body.device).toMatchObject({ id: 'door-1', kind: 'lock', name: 'Service room', source: 'runtime' });
    expect(h.gateway.hosts.has('door-1')).toBe(true);
    const audit = h.gateway.store.events.tail(5, { type: 'provisioning.change' });
    expect(audit.at(-1)?.data).toEqual({ action: 'added', device: 'door-1', driver: 'gpio-relay-lock', actor: 'api' });

    const shown = (await h.call('GET', '/api/devices/door-1')).body;
    expect(shown.settings).toMatchObject({ relay_pin: 17, contact_pin: 27, open_time_ms: 5000 });
    const list = await h.call('GET', '/api/devices');
    expect(list.body.devices.map((d: { id: string }) => d.id)).toEqual(['door-1', 'file-lock']);
    await eventually(
      async () => (await h.call('GET', '/api/devices/door-1')).body.state.state === 'closed',
      5000,
      'door state shown',
    );

    const changed = await h.call('PUT', '/api/devices/door-1', {
      body: { driver: 'gpio-relay-lock', settings: { relay_pin: 17, contact_pin: 27, open_time_ms: 800 } },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.action).toBe('changed');
    expect(changed.body.device.settings.open_time_ms).toBe(800);

    const del = await h.call('DELETE', '/api/devices/door-1');
    expect(del.body).toEqual({ ok: true });
    expect(h.gateway.hosts.has('door-1')).toBe(false);
    expect((await h.call('GET', '/api/devices/door-1')).status).toBe(404);
    expect((await h.call('DELETE', '/api/devices/door-1')).body.error.code).toBe('not_found');
    expect(h.gateway.store.events.tail(1, { type: 'provisioning.change' })[0]?.data.action).toBe('removed');
  });

  it('refuses bad requests with every problem by field, changes nothing, and counts them', async () => {
    const bad = await h.call('PUT', '/api/devices/door-2', {
      body: { driver: 'gpio-relay-lock', settings: { relay_pin: 40, colour: 'red', mode: 'sideways' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.problems).toEqual(
      expect.arrayContaining([
        { field: 'settings.relay_pin', message: 'expected a BCM line 0-27' },
        { field: 'settings.mode', message: expect.stringMatching(/fail-secure/) },
        { field: 'settings.colour', message: 'unknown key' },
      ]),
    );
    const badId = await h.call('PUT', '/api/devices/Door%20Two', { body: { driver: 'gpio-relay-lock', settings: {} } });
    expect(badId.body.error.problems).toEqual([{ field: 'id', message: expect.stringMatching(/device id/) }]);
    const noDriver = await h.call('PUT', '/api/devices/door-2', { body: { settings: {}, extra: 1 } });
    expect(noDriver.body.error.problems.map((p: { field: string }) => p.field).sort()).toEqual(['driver', 'extra']);
    const unknownDriver = await h.call('PUT', '/api/devices/door-2', { body: { driver: 'warp-drive', settings: {} } });
    expect(unknownDriver.body.error.problems[0]).toEqual({
      field: 'driver',
      message: expect.stringMatching(/unknown driver "warp-drive"/),
    });
    const badJson = await h.call('PUT', '/api/devices/door-2', {
      raw: '{"driver": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.code).toBe('bad_json');
    const huge = await h.call('PUT', '/api/devices/door-2', {
      raw: JSON.stringify({ driver: 'x', settings: { blob: 'x'.repeat(100_000) } }),
      headers: { 'content-type': 'application/json' },
    });
    expect(huge.status).toBe(413);
    const text = await h.call('PUT', '/api/devices/door-2', {
      raw: 'driver=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(text.status).toBe(415);
    expect(h.gateway.store.devices.get('door-2')).toBeUndefined();

    const metrics = await h.call('GET', '/metrics');
    expect(metrics.text).toMatch(/portier_admin_errors_total\{status="400",code="validation_failed"\} [4-9]/);
    expect(metrics.text).toMatch(/portier_admin_errors_total\{status="400",code="bad_json"\} 1/);
    expect((await h.call('GET', '/healthz')).status).toBe(200);
  });

  it('leaves devices of the config file to the file', async () => {
    const put = await h.call('PUT', '/api/devices/file-lock', {
      body: { driver: 'gpio-relay-lock', settings: { relay_pin: 6 } },
    });
    expect(put.status).toBe(409);
    expect(put.body.error.code).toBe('config_device');
    expect((await h.call('DELETE', '/api/devices/file-lock')).status).toBe(409);
    expect(h.gateway.hosts.has('file-lock')).toBe(true);
  });

  it('tests a lock by pulsing its relay (audited as an operator opening) and a sensor by its latest readings', async () => {
    await h.call('PUT', '/api/devices/door-3', {
      body: { driver: 'gpio-relay-lock', settings: { relay_pin: 17, contact_pin: 27 } },
    });
    const res = await h.call('POST', '/api/devices/door-3/test', { body: { duration_ms: 600 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      device: 'door-3',
      action: 'pulsed',
      result: { locked: false, relock_in_ms: 600 },
    });
    expect(door.relay()).toBe(1);
    await eventually(() => door.relay() === 0, 5000, 'relay released again');
    const audit = h.gateway.store.events.tail(1, { type: 'access.decision', dev: 'door-3' })[0];
    expect(audit?.data).toMatchObject({ credential: 'operator', granted: true, via: 'test', actor: 'api' });

    const released = await h.call('POST', '/api/devices/door-3/release');
    expect(released.body).toMatchObject({ device: 'door-3', command: 'unlock' });
    expect(h.gateway.store.events.tail(3, { type: 'alarm', dev: 'door-3' }).at(-1)?.data).toEqual({
      alarm: 'emergency_release',
      actor: 'api',
    });

    // A reader has nothing to pulse: its test shows its health, state and latest events (here: a missing port).
    const qr = await h.call('PUT', '/api/devices/qr-9', {
      body: { driver: 'serial-qr-reader', settings: { path: '/nonexistent/ttyQR', lock: 'door-3' } },
    });
    expect(qr.status).toBe(201);
    const reading = await eventually(
      async () => {
        const r = await h.call('POST', '/api/devices/qr-9/test');
        // The host knows at once; the state follows when the device.health event is committed (next turn).
        return r.body.up === false && r.body.state?.available === false ? r.body : undefined;
      },
      10_000,
      'reader reported down',
    );
    expect(reading).toMatchObject({ device: 'qr-9', action: 'readings', state: { available: false } });
    expect(reading.events.map((e: { type: string }) => e.type)).toContain('device.health');
    expect((await h.call('GET', '/api/health')).body).toMatchObject({
      status: 'degraded',
      devices: { down_ids: ['qr-9'] },
    });
    const notLock = await h.call('POST', '/api/devices/nope/test');
    expect(notLock.status).toBe(404);
    const wrongArgs = await h.call('POST', '/api/devices/door-3/test', { body: { duration_ms: 10 } });
    expect(wrongArgs.body.error.problems).toEqual([{ field: 'duration_ms', message: expect.stringMatching(/500/) }]);
  });
});
