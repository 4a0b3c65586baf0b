import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base45Encode } from '../../../src/access/base45.js';
import { importSigningKey, issueCwt } from '../../../src/access/issue.js';
import { AccessService } from '../../../src/access/service.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openStore } from '../../../src/store/store.js';
import { ROOT } from '../../helpers/daemon.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeKey } from '../../unit/access/forge.js';

const CHILD = join(ROOT, 'dist', 'test', 'integration', 'access', 'fixtures', 'decide-and-die.js');

function decideAndDie(
  stateDir: string,
  lock: string,
  pass: string,
): Promise<{ line: string; signal: NodeJS.Signals | null }> {
  if (!existsSync(CHILD)) throw new Error(`${CHILD} is missing: run npm run build first`);
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CHILD, stateDir, lock, pass], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    proc.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    proc.on('error', reject);
    proc.on('close', (_code, signal) => (out ? resolve({ line: out.trim(), signal }) : reject(new Error(err))));
  });
}

describe('kill -9 between decision and relay', () => {
  let dir: string;
  const key = makeKey('kill-test', 'EdDSA');

  beforeAll(() => {
    dir = tempDir('portier-decide-kill-');
    const store = openStore({ stateDir: dir, gatewayId: 'gw-kill', log: silentLogger() });
    new AccessService({ store }).keys.importJwks({ keys: [key.publicJwk] });
    store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a single-use pass granted by a process that was then killed cannot open again after the restart', async () => {
    const now = Math.floor(Date.now() / 1000);
    const pass = `PT1:${base45Encode(
      issueCwt(importSigningKey(key.privateJwk), { aud: 'toilet-1', exp: now + 3600, iat: now, uses: 1, id: 'c0ffee' })
        .bytes,
    )}`;
    const first = await decideAndDie(dir, 'toilet-1', pass);
    expect(first.signal).toBe('SIGKILL');
    expect(JSON.parse(first.line)).toMatchObject({ granted: true, reason: 'ok' });

    // the restart: open what the killed process left on disk
    const store = openStore({
      stateDir: dir,
      gatewayId: 'gw-kill',
      log: silentLogger(),
      clock: { trustSystemClock: true },
    });
    try {
      const access = new AccessService({ store });
      expect(access.decide({ lock: 'toilet-1', credential: { kind: 'pass', value: pass } })).toMatchObject({
        granted: false,
        reason: 'uses_exhausted',
      });
      // and the grant's decision event survived with it
      const decisions = store.events.tail(10, { type: 'access.decision' });
      expect(decisions.map((e) => [e.data.pass_id, e.data.reason])).toEqual([
        ['c0ffee', 'ok'],
        ['c0ffee', 'uses_exhausted'],
      ]);
    } finally {
      store.close();
    }

    // a second killed process also sees the use: the count is in the database, not in a process
    const third = await decideAndDie(dir, 'toilet-1', pass);
    expect(JSON.parse(third.line)).toMatchObject({ granted: false, reason: 'uses_exhausted' });
  });
});
