import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { rmSync } from 'node:fs';
import { base45Encode } from '../../src/access/base45.js';
import { decodeCoseSign1 } from '../../src/access/cose.js';
import { importSigningKey, issueCwt, issueJwt, type PassSpec } from '../../src/access/issue.js';
import { decodeCompactJws } from '../../src/access/jws.js';
import { importIssuerKey, Keyring } from '../../src/access/keyring.js';
import { matchPin, pinCode, pinSlot } from '../../src/access/pin.js';
import { AccessService } from '../../src/access/service.js';
import { verifyPass } from '../../src/access/verify.js';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/store/store.js';
import { tempDir } from '../helpers/tmp.js';
import { makeKey } from '../unit/access/forge.js';
import { percentile } from './stats.js';
import type { BenchRow } from './types.js';

/** Rounds of each measurement, interleaved so that a noisy neighbour on the shared CPU hits both sides alike. */
const ROUNDS = 7;

function opsPerSecond(n: number, fn: () => void): number {
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  return n / ((performance.now() - t) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median ops/s of ours and of the raw reference, measured alternately in the same run. */
function compare(n: number, ours: () => void, raw: () => void): { ours: number; raw: number } {
  for (let i = 0; i < 200; i++) {
    ours();
    raw();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    b.push(opsPerSecond(n, raw));
    a.push(opsPerSecond(n, ours));
  }
  return { ours: median(a), raw: median(b) };
}

const round = (v: number, digits = 0) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Pass verification throughput (decode + header + kid lookup + signature + claims) next to a bare `crypto.verify`
 * of the same signed bytes with the same imported key, per algorithm and form; the durable decision latency; and
 * the PIN check.
 */
export async function accessBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const now = Math.floor(Date.now() / 1000);
  const spec: PassSpec = {
    aud: 'toilet-1',
    exp: now + 3600,
    iat: now,
    sub: 'holder-1',
    win: [['*', '00:00', '24:00']],
  };
  for (const alg of ['EdDSA', 'ES256'] as const) {
    const k = makeKey(`bench-${alg}`, alg);
    const keyring = new Keyring([importIssuerKey(k.publicJwk)]);
    const signer = importSigningKey(k.privateJwk);
    const key: KeyObject = keyring.get(k.kid)!.key;
    const bytes = issueCwt(signer, { ...spec, id: 'b1' }).bytes;
    const cose = decodeCoseSign1(bytes);
    if (!cose.ok) throw new Error('bench pass does not decode');
    const { signingInput, signature } = cose.value;
    const raw =
      alg === 'EdDSA'
        ? () => cryptoVerify(null, signingInput, key, signature)
        : () => cryptoVerify('sha256', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
    const pt1 = `PT1:${base45Encode(bytes)}`;
    if (!verifyPass(pt1, keyring).ok) throw new Error('bench pass does not verify');
    const n = alg === 'EdDSA' ? 2000 : 1000;
    const c = compare(n, () => verifyPass(pt1, keyring), raw);
    rows.push({
      name: `verify ${alg} CWT pass (PT1 text, full decode + claims)`,
      value: round(c.ours),
      unit: 'passes/s',
      reference: { name: `raw crypto.verify ${alg}, same key and bytes`, value: round(c.raw), unit: 'verifies/s' },
      target: '>= 85 % of raw crypto.verify',
      ok: c.ours >= 0.85 * c.raw,
    });

    const jwt = (await issueJwt(signer, { ...spec, id: 'b2' })).token;
    const jws = decodeCompactJws(jwt);
    if (!jws.ok) throw new Error('bench JWT does not decode');
    const j = jws.value;
    const rawJwt =
      alg === 'EdDSA'
        ? () => cryptoVerify(null, j.signingInput, key, j.signature)
        : () => cryptoVerify('sha256', j.signingInput, { key, dsaEncoding: 'ieee-p1363' }, j.signature);
    const cj = compare(n, () => verifyPass(jwt, keyring), rawJwt);
    rows.push({
      name: `verify ${alg} JWT pass`,
      value: round(cj.ours),
      unit: 'passes/s',
      reference: { name: `raw crypto.verify ${alg}, same key and bytes`, value: round(cj.raw), unit: 'verifies/s' },
      target: '>= 85 % of raw crypto.verify',
      ok: cj.ours >= 0.85 * cj.raw,
    });
  }

  // a whole decision: verify, policy, use count and event in one synchronous=FULL commit, before the relay moves
  const dir = tempDir('portier-access-bench-');
  const store = openStore({
    stateDir: dir,
    gatewayId: 'bench',
    log: silentLogger(),
    clock: { trustSystemClock: true },
  });
  const k = makeKey('bench-door', 'EdDSA');
  const access = new AccessService({ store, timezone: 'Europe/Berlin' });
  access.keys.importJwks({ keys: [k.publicJwk] });
  const signer = importSigningKey(k.privateJwk);
  const M = 500;
  const passes = Array.from(
    { length: M },
    (_, i) => `PT1:${base45Encode(issueCwt(signer, { ...spec, id: `d${i}`, uses: 1 }).bytes)}`,
  );
  const lat: number[] = [];
  for (const value of passes) {
    const t = performance.now();
    const d = access.decide({ lock: 'toilet-1', credential: { kind: 'pass', value } });
    lat.push(performance.now() - t);
    if (!d.granted) throw new Error(`bench decision denied: ${d.reason}`);
  }
  const durable: number[] = [];
  for (let i = 0; i < M; i++) {
    const t = performance.now();
    store.events.recordNow({ dev: 'toilet-1', type: 'access.decision', data: { granted: true } });
    durable.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  durable.sort((a, b) => a - b);
  rows.push(
    {
      name: 'decide single-use pass, committed (synchronous=FULL), p50',
      value: round(percentile(lat, 50), 3),
      unit: 'ms',
      reference: { name: 'durable event commit alone, p50', value: round(percentile(durable, 50), 3), unit: 'ms' },
    },
    {
      name: 'decide single-use pass, committed (synchronous=FULL), p99',
      value: round(percentile(lat, 99), 3),
      unit: 'ms',
      reference: { name: 'durable event commit alone, p99', value: round(percentile(durable, 99), 3), unit: 'ms' },
      target: '< 10 ms (with the relay, scan to relay)',
      ok: percentile(lat, 99) < 10,
    },
  );

  // the PIN check: every candidate slot of a keypad code
  const secret = access.pins.setSecret('toilet-1');
  const code = pinCode(secret, 'toilet-1', pinSlot(now - 3 * 3600, 168, false), 8);
  const wrong = code === '00000000' ? '00000001' : '00000000';
  const pinRate = opsPerSecond(200, () => matchPin(secret, 'toilet-1', wrong, now));
  rows.push({ name: 'PIN check (all candidate slots, a wrong code)', value: round(1000 / pinRate, 3), unit: 'ms' });
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

// `node dist/test/bench/access-bench.js` runs this benchmark alone
if (process.argv[1]?.endsWith('access-bench.js')) {
  accessBench().then(
    (rows) => {
      for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
