import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessService } from '../../../src/access/service.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openStore } from '../../../src/store/store.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeKey } from '../../unit/access/forge.js';
import { RFC8037_PRIVATE_JWK, RFC8037_PUBLIC_JWK, RFC8037_THUMBPRINT } from '../../unit/access/vectors.js';
import { portier, portierJson } from './cli.js';

let dir: string;
let stateDir: string;
const env = () => ({ PORTIER_STATE_DIR: stateDir });

beforeAll(() => {
  dir = tempDir('portier-store-cli-');
  stateDir = join(dir, 'state');
});

describe('keys, revoke and pin commands on a real state directory', () => {
  it('imports, lists and removes issuer keys; refuses private keys', async () => {
    const ec = makeKey('ec-1', 'ES256');
    writeFileSync(
      join(dir, 'set.json'),
      JSON.stringify({ keys: [RFC8037_PUBLIC_JWK, ec.publicJwk, { kty: 'oct', k: 'c2VjcmV0' }] }),
    );
    writeFileSync(join(dir, 'private.json'), JSON.stringify(RFC8037_PRIVATE_JWK));
    const imported = await portierJson(['keys', 'import', join(dir, 'set.json'), '--state-dir', stateDir]);
    expect(imported).toMatchObject({
      code: 0,
      json: { imported: [RFC8037_THUMBPRINT, 'ec-1'], skipped: [{ index: 2 }] },
    });
    const listed = await portierJson(['keys', 'list'], { env: env() });
    expect((listed.json as unknown as Array<{ kid: string; alg: string }>).map((k) => [k.kid, k.alg])).toEqual([
      ['ec-1', 'ES256'],
      [RFC8037_THUMBPRINT, 'EdDSA'],
    ]);
    const refused = await portier(['keys', 'import', join(dir, 'private.json')], { env: env() });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^portier keys import: .*private key/);
    expect((await portier(['keys', 'remove', 'ec-1'], { env: env() })).code).toBe(0);
    const gone = await portier(['keys', 'remove', 'ec-1'], { env: env() });
    expect(gone).toMatchObject({ code: 1 });
    expect(gone.stderr).toMatch(/no issuer key "ec-1"/);
    expect((await portier(['keys', 'list'])).code).toBe(2); // no --state-dir, no PORTIER_STATE_DIR
  });

  it('revokes by pass id and subject, raising the list version the gateway then records', async () => {
    expect((await portierJson(['revoke', 'pass-123'], { env: env() })).json).toMatchObject({ version: 1 });
    expect(
      (await portierJson(['revoke', '--sub', 'holder-9', '--reason', 'phone lost'], { env: env() })).json,
    ).toMatchObject({
      revoked: { kind: 'sub', value: 'holder-9' },
      version: 2,
    });
    const list = await portierJson(['revoke', '--list'], { env: env() });
    expect(list.json).toMatchObject({
      version: 2,
      revocations: [
        { kind: 'pass', value: 'pass-123' },
        { kind: 'sub', value: 'holder-9', reason: 'phone lost' },
      ],
    });
    expect((await portierJson(['revoke', 'pass-123', '--undo'], { env: env() })).json).toMatchObject({ version: 3 });
    expect((await portier(['revoke'], { env: env() })).code).toBe(2);
    const store = openStore({ stateDir, gatewayId: 'gw', log: silentLogger() });
    try {
      const svc = new AccessService({ store });
      expect(svc.revocations.version()).toBe(3);
      expect(svc.revocations.isRevoked('x', 'holder-9')).toBe(true);
    } finally {
      store.close();
    }
  });

  it('makes a PIN secret (0600), issues codes from the file or the store, and checks them', async () => {
    const secretFile = join(dir, 'toilet-1.secret');
    const made = await portierJson(['pin', 'secret', '--lock', 'toilet-1', '--out', secretFile], { env: env() });
    expect(made.json).toMatchObject({ created: true, written_to: secretFile });
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const again = await portierJson(['pin', 'secret', '--lock', 'toilet-1', '--out', secretFile], { env: env() });
    expect(again.json.created).toBe(false);
    const start = '2025-06-11T08:00:00Z';
    const fromFile = await portierJson([
      'pin',
      'issue',
      '--lock',
      'toilet-1',
      '--secret-file',
      secretFile,
      '--start',
      start,
      '--hours',
      '24',
    ]);
    const fromStore = await portierJson(['pin', 'issue', '--lock', 'toilet-1', '--start', start, '--hours', '24'], {
      env: env(),
    });
    expect(fromFile.json.code).toMatch(/^\d{8}$/);
    expect(fromStore.json.code).toBe(fromFile.json.code);
    const code = fromFile.json.code as string;
    const ok = await portierJson([
      'pin',
      'check',
      code,
      '--lock',
      'toilet-1',
      '--secret-file',
      secretFile,
      '--at',
      '2025-06-12T07:59:00Z',
    ]);
    expect(ok).toMatchObject({
      code: 0,
      json: { valid: true, hours: 24, one_time: false, id: 'pin:toilet-1:1749628800:24:dur' },
    });
    const late = await portierJson([
      'pin',
      'check',
      code,
      '--lock',
      'toilet-1',
      '--secret-file',
      secretFile,
      '--at',
      '2025-06-12T08:00:00Z',
    ]);
    expect(late).toMatchObject({ code: 1, json: { valid: false } });
    const bad = await portier(['pin', 'issue', '--lock', 'toilet-1', '--secret-file', secretFile, '--hours', '5']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/duration codes last one of/);
    expect(readFileSync(secretFile, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
