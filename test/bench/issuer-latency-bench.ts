import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { createPtyPair } from '../../firmware-stubs/pty-pair.js';
import { QrScannerStub } from '../../firmware-stubs/qr-scanner.js';
import { silentLogger } from '../../src/core/logger.js';
import { parseIssuerConfig } from '../../src/issuer/config.js';
import { startIssuer } from '../../src/issuer/service.js';
import { SimGpioDevice } from '../../src/transports/gpio/sim.js';
import { startTestGateway } from '../helpers/gateway.js';
import { makeIssuer, pt1Pass } from '../helpers/issuer.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { percentile, until } from './stats.js';
import type { BenchRow } from './types.js';

/** Taps and scans measured, after WARMUP unmeasured ones of each. */
const TAPS = 50;
const WARMUP = 5;
const RELAY = 17;

const round = (v: number) => Math.round(v * 100) / 100;

/** A form post as a phone's browser sends it: headers and body in one write. */
function post(url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Measured {
  taps: number[];
  answers: number[];
  scans: number[];
}

/**
 * Tap to relay, online path: from the moment the door page's form is posted to the issuer to the moment the strike's
 * relay line is seen high from the device side, through the issuer (limits in SQLite, a signed single-use pass), a
 * real mosquitto as the cloud broker, the gateway's `open` command (verified as a scan, durable commit) and the
 * lock driver. Next to it, the same gateway's scan to relay (access-latency-bench's method) in the same run. The
 * issuer and the gateway share this process; in a town they run on different machines, and the broker's network
 * round trip adds to the tap's figure.
 */
async function measure(brokerLines: string[]): Promise<Measured> {
  const dir = tempDir('portier-bench-issuer-');
  const gpioDir = join(dir, 'gpio');
  mkdirSync(gpioDir);
  const broker = await startMosquitto({ extraConfig: brokerLines });
  const pty = await createPtyPair(dir);
  const qr = new QrScannerStub(pty.devicePath);
  await qr.start();
  const { gateway } = await startTestGateway({
    dir,
    gpioDir,
    cloudUrl: broker.url,
    devices: [
      { id: 'toilet', driver: 'gpio-relay-lock', settings: { relay_pin: RELAY, open_time_ms: 60_000 } },
      { id: 'toilet-qr', driver: 'serial-qr-reader', settings: { path: pty.gatewayPath, lock: 'toilet' } },
    ],
  });
  const town = makeIssuer('bench-town');
  gateway.access.service.keys.importJwks(town.jwks);
  const keyFile = join(dir, 'issuer.jwk.json');
  writeFileSync(keyFile, JSON.stringify(town.key.jwk), { mode: 0o600 });
  const issuer = await startIssuer(
    parseIssuerConfig(`version: 1
listen: { host: 127.0.0.1, port: 0, public_url: 'https://wc.example-town.de' }
state_dir: ${join(dir, 'issuer')}
log: { level: silent }
key: { file: ${keyFile}, iss: 'https://wc.example-town.de/issuer' }
broker: { url: '${broker.url}' }
doors:
  - id: toilet
    gateway: test-gw
    name: { de: WC, en: Toilet }
    policy: { per_client_per_hour: 1000, per_door_per_hour: 1000 }
`),
    silentLogger(),
  );
  const dev = new SimGpioDevice(gpioDir);
  let level = 0;
  let rose = 0;
  dev.watch(RELAY, (v) => {
    level = v;
    if (v === 1) rose = performance.now();
  });
  const lock = gateway.hosts.get('toilet')!;
  const taps: number[] = [];
  const answers: number[] = [];
  const scans: number[] = [];
  try {
    await until(() => gateway.hosts.get('toilet-qr')?.isUp === true, 10_000, 'scanner up');
    for (let i = 0; i < TAPS + WARMUP; i++) {
      await lock.command('lock', {});
      await until(() => level === 0, 5000, 'relay low');
      const t0 = performance.now();
      const html = await post(`${issuer.url}/d/toilet/open`, 'lang=en');
      const answered = performance.now();
      if (!html.includes('Open: push the door now.')) {
        // The gateway's cloud link comes up a moment after start: warm-up taps may find it away.
        if (i < WARMUP) continue;
        throw new Error(`bench: tap ${i} not opened online`);
      }
      await until(() => level === 1 && rose >= t0, 5000, `relay high for tap ${i}`);
      if (i >= WARMUP) {
        taps.push(rose - t0);
        answers.push(answered - t0);
      }
    }
    for (let i = 0; i < TAPS + WARMUP; i++) {
      const pass = await pt1Pass(town.key, { aud: 'toilet', uses: 1 });
      await lock.command('lock', {});
      await until(() => level === 0, 5000, 'relay low');
      const t0 = performance.now();
      await qr.scan(pass);
      await until(() => level === 1 && rose >= t0, 5000, `relay high for scan ${i}`);
      if (i >= WARMUP) scans.push(rose - t0);
    }
  } finally {
    dev.close();
    await issuer.close();
    await gateway.stop();
    await qr.stop();
    await pty.stop();
    await broker.stop();
  }
  if (taps.length < TAPS) throw new Error(`bench: only ${taps.length} of ${TAPS} taps opened online`);
  return {
    taps: taps.sort((a, b) => a - b),
    answers: answers.sort((a, b) => a - b),
    scans: scans.sort((a, b) => a - b),
  };
}

/**
 * Measured twice: with the cloud broker as config/mosquitto/portier.conf sets it (`set_tcp_nodelay true`), and with
 * mosquitto's default (Nagle's algorithm on), which holds the `open` back behind the gateway's delayed ACK.
 */
export async function issuerLatencyBench(): Promise<BenchRow[]> {
  const fast = await measure(['set_tcp_nodelay true']);
  const nagle = await measure([]);
  const scan = (p: number) => ({
    name: `scan → relay p${p}, same gateway, same run`,
    value: round(percentile(fast.scans, p)),
    unit: 'ms',
  });
  const p95 = round(percentile(fast.taps, 95));
  return [
    {
      name: `tap → relay p50 (${TAPS} form posts, online: issuer → mosquitto → gateway open)`,
      value: round(percentile(fast.taps, 50)),
      unit: 'ms',
      reference: scan(50),
    },
    {
      name: `tap → relay p95 (${TAPS} form posts, online)`,
      value: p95,
      unit: 'ms',
      reference: scan(95),
      target: 'p95 <= 1000 ms',
      ok: p95 <= 1000,
    },
    {
      name: 'tap → page answered ("Open: push the door now") p50',
      value: round(percentile(fast.answers, 50)),
      unit: 'ms',
    },
    { name: 'tap → page answered p95', value: round(percentile(fast.answers, 95)), unit: 'ms' },
    {
      name: 'diagnostic: tap → relay p50 with mosquitto defaults (set_tcp_nodelay false)',
      value: round(percentile(nagle.taps, 50)),
      unit: 'ms',
      reference: {
        name: 'tap → relay p50 with set_tcp_nodelay true',
        value: round(percentile(fast.taps, 50)),
        unit: 'ms',
      },
    },
  ];
}
