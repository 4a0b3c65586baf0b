import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import { createPtyPair, type PtyPair } from '../../../firmware-stubs/pty-pair.js';
import { QrScannerStub } from '../../../firmware-stubs/qr-scanner.js';
import type { PortierEvent } from '../../../src/core/events.js';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { makeIssuer, pt1Pass } from '../../helpers/issuer.js';
import { tempDir } from '../../helpers/tmp.js';

describe('scan to relay: a pass on the QR scanner opens the door, offline', () => {
  let tg: TestGateway;
  let pty: PtyPair;
  let scanner: QrScannerStub;
  let door: GpioDoorStub;
  const issuer = makeIssuer();
  const decisions = () => tg.events.filter((e) => e.type === 'access.decision');

  beforeAll(async () => {
    const dir = tempDir('portier-scan-');
    const gpioDir = join(dir, 'gpio');
    mkdirSync(gpioDir);
    pty = await createPtyPair(dir);
    scanner = new QrScannerStub(pty.devicePath);
    door = new GpioDoorStub({ dir: gpioDir, relayLine: 17, contactLine: 27, walkThrough: false });
    await Promise.all([scanner.start(), door.start()]);
    tg = await startTestGateway({
      dir,
      gpioDir,
      devices: [
        {
          id: 'toilet',
          driver: 'gpio-relay-lock',
          settings: { relay_pin: 17, contact_pin: 27, open_time_ms: 500, groups: ['toilets'] },
        },
        { id: 'toilet-qr', driver: 'serial-qr-reader', settings: { path: pty.gatewayPath, lock: 'toilet' } },
      ],
    });
    tg.gateway.access.service.keys.importJwks(issuer.jwks);
    await eventually(() => tg.gateway.hosts.get('toilet-qr')?.isUp, 10_000, 'scanner up');
  });

  afterAll(async () => {
    await tg?.gateway.stop();
    await scanner?.stop();
    await door?.stop();
    await pty?.stop();
  });

  async function scan(token: string): Promise<PortierEvent> {
    const before = decisions().length;
    await scanner.scan(token);
    return eventually(() => decisions()[before], 10_000, 'a decision');
  }

  it('grants a single-use pass for the lock, energizes the relay, and refuses its second use', async () => {
    const token = await pt1Pass(issuer.key, { aud: 'toilet', uses: 1 });
    const granted = await scan(token);
    expect(granted.data).toMatchObject({ granted: true, reason: 'ok', lock: 'toilet' });
    await eventually(() => door.relay() === 1, 5000, 'relay energized');
    await eventually(() => door.relay() === 0, 5000, 'relocked');
    const again = await scan(token);
    expect(again.data).toMatchObject({ granted: false, reason: 'uses_exhausted' });
    expect(door.relay()).toBe(0);
  });

  it('opens for a group audience, and denies another lock and a tampered pass with their reasons', async () => {
    expect((await scan(await pt1Pass(issuer.key, { aud: 'group:toilets' }))).data.reason).toBe('ok');
    expect((await scan(await pt1Pass(issuer.key, { aud: 'bike-garage' }))).data.reason).toBe('wrong_lock');
    const good = await pt1Pass(issuer.key, { aud: 'toilet' });
    const tampered = `${good.slice(0, 40)}${good[40] === 'A' ? 'B' : 'A'}${good.slice(41)}`;
    expect(['bad_signature', 'malformed']).toContain((await scan(tampered)).data.reason);
  });

  it('never lets the raw holder id or the pass leave in the decision event', async () => {
    for (const e of decisions()) {
      expect(JSON.stringify(e)).not.toContain('holder-1');
      expect(JSON.stringify(e)).not.toContain('PT1:');
    }
    expect(decisions().length).toBeGreaterThanOrEqual(5);
  });

  it('times each decision from the scan to the relay command (granted) or the committed denial', async () => {
    await scan(await pt1Pass(issuer.key, { aud: 'toilet' }));
    const count = async (outcome: string) => {
      const text = await tg.gateway.metrics.registry.getSingleMetricAsString('portier_access_decision_latency_seconds');
      return Number(new RegExp(`_count\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    };
    const granted = decisions().filter((e) => e.data.granted === true).length;
    const denied = decisions().length - granted;
    expect(granted).toBeGreaterThan(0);
    expect(denied).toBeGreaterThan(0);
    // Observed once the relay command returned, just after the decision event.
    await eventually(async () => (await count('granted')) === granted, 5000, 'granted observed');
    expect(await count('denied')).toBe(denied);
  });
});
