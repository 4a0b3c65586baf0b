import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getCodec } from '../../../devices/codecs.js';

/** `portier decode` as a real process: the built CLI (npm test builds dist/ first; by hand, `npx tsc -p .`). */
const BIN = join(import.meta.dirname, '..', '..', '..', 'dist', 'src', 'cli', 'bin.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function portier(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(stdin ?? '');
  });
}

/** PyVantagePro test suite LOOP packet (../shared/vectors/README.md). */
const DAVIS =
  '4c4f4f14003e032175da0239d10204056301ffffffffffffffffffffffffffffff4effffffffffffff0000ffff7f0000ffff000000000000' +
  '000000000000ffffffffffffff0000000000000000000000000000000000002703064b26023e070a0d1163';

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsc -p .); npm test does it`);
});

describe('portier decode (child process)', () => {
  it('prints the Davis LOOP event as JSON and exits 0', async () => {
    const r = await portier(['decode', 'davis-loop', DAVIS, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(getCodec('davis-loop').decode(DAVIS));
    expect(JSON.parse(r.stdout).data.temperature_c).toBe(22.28);
  });

  it('decodes the Nwave NPS405 heartbeat of the vectors README with --fport 2', async () => {
    const r = await portier(['decode', 'nwave-nps405', '00D3D800590B', '--fport', '2', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).data).toMatchObject({ occupied: false, battery_v: 3.344, temperature_c: -10 });
  });

  it('decodes a ChirpStack uplink with --device-codec, adding the RSSI', async () => {
    const up = JSON.stringify({
      deviceInfo: { devEui: '0101010101010101' },
      fPort: 2,
      data: 'Af8=',
      rxInfo: [{ rssi: -97 }],
    });
    const r = await portier(['decode', 'chirpstack', up, '--device-codec', 'bosch-tps110', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      type: 'parking.occupancy',
      data: { occupied: true, kind: 'heartbeat', temperature_c: -1, rssi_dbm: -97 },
    });
  });

  it('applies --threshold-m to a distance sensor', async () => {
    const near = await portier(['decode', 'milesight-em400-mud', '04824408', '--threshold-m', '2.5', '--json']);
    const far = await portier(['decode', 'milesight-em400-mud', '04824408', '--threshold-m', '2', '--json']);
    expect(JSON.parse(near.stdout).data.occupied).toBe(true);
    expect(JSON.parse(far.stdout).data.occupied).toBe(false);
  });

  it('reads INPUT from stdin with "-", and prints k=v text without --json', async () => {
    const line = '{"model" : "Fineoffset-WH25", "id" : 80, "temperature_C" : 23.200, "humidity" : 57}';
    const r = await portier(['decode', 'rtl433', '-'], `${line}\n`);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('weather.reading temperature_c=23.2 humidity_pct=57');
  });

  it('fails a bad CRC with one line on stderr naming the reason, nothing on stdout, exit 1', async () => {
    const r = await portier(['decode', 'davis-loop', `${DAVIS.slice(0, -2)}00`, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('reason: bad_crc');
  });

  it('fails a wrong port with exit 1 and its reason', async () => {
    const r = await portier(['decode', 'nwave-nps405', '95', '--fport', '7']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('reason: wrong_port');
  });

  it('treats an unknown codec and a bad --fport as usage errors (exit 2)', async () => {
    const unknown = await portier(['decode', 'acme-9000', '00']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown codec "acme-9000"');
    const badPort = await portier(['decode', 'nwave-nps405', '95', '--fport', '300']);
    expect(badPort.code).toBe(2);
  });

  it('lists every codec in --help', async () => {
    const r = await portier(['decode', '--help']);
    expect(r.code).toBe(0);
    for (const name of ['davis-loop', 'chirpstack', 'shelly-coiot', 'dingtek-do201']) expect(r.stdout).toContain(name);
  });
});
