import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { importJWK, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { importSigningKey } from '../../../src/access/issue.js';
import { readIssuerKey } from '../../../src/issuer/service.js';
import { BIN } from '../../helpers/daemon.js';
import { tempDir } from '../../helpers/tmp.js';

const run = promisify(execFile);

/** `portier ARGS` as a real process started from a shell with the common umask 022. */
async function portier(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('sh', ['-c', 'umask 022 && exec "$0" "$@"', process.execPath, BIN, ...args], {
      env: { ...process.env, JOURNAL_STREAM: undefined },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('portier keys generate', () => {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    it(`${alg}: private JWK 0600 and public JWK Set 0644 under umask 022; a pass it signs is granted by a gateway that imported the set`, async () => {
      const dir = join(tempDir(), 'keys');
      const kid = `town-2026-${alg.toLowerCase()}`;
      const gen = await portier(['keys', 'generate', '--kid', kid, '--alg', alg, '--out', dir, '--json']);
      expect(gen.stderr).toBe('');
      expect(gen.code).toBe(0);
      const privateFile = join(dir, `${kid}.private.jwk.json`);
      const publicFile = join(dir, `${kid}.jwks.json`);
      expect(JSON.parse(gen.stdout)).toMatchObject({ kid, alg, private_file: privateFile, public_file: publicFile });
      expect(mode(privateFile)).toBe(0o600);
      expect(mode(publicFile)).toBe(0o644);

      const priv = JSON.parse(readFileSync(privateFile, 'utf8')) as Record<string, unknown>;
      const jwks = JSON.parse(readFileSync(publicFile, 'utf8')) as { keys: Array<Record<string, unknown>> };
      expect(priv).toMatchObject({ kid, alg, use: 'sig', kty: alg === 'EdDSA' ? 'OKP' : 'EC' });
      expect(typeof priv.d).toBe('string');
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0]).toMatchObject({ kid, alg, use: 'sig', x: priv.x });
      expect(jwks.keys[0]).not.toHaveProperty('d');
      // an independent JOSE library takes both halves
      expect(((await importJWK(priv as JWK, alg)) as CryptoKey).type).toBe('private');
      expect(((await importJWK(jwks.keys[0] as JWK, alg)) as CryptoKey).type).toBe('public');
      // the issuer's key.file and the signing code read it with kid and alg
      expect(readIssuerKey(privateFile)).toMatchObject({ kid, alg });
      expect(importSigningKey(priv)).toMatchObject({ kid, alg });

      const stateDir = join(tempDir(), 'state');
      const imp = await portier(['keys', 'import', publicFile, '--state-dir', stateDir]);
      expect(imp.stderr).toBe('');
      expect(imp.stdout).toContain(`imported 1 key(s): ${kid}`);

      const iss = await portier([
        'token',
        'issue',
        '--key',
        privateFile,
        '--aud',
        'toilet-1',
        '--exp',
        '+10m',
        '--uses',
        '1',
        '--json',
      ]);
      expect(iss.code).toBe(0);
      const pass = JSON.parse(iss.stdout) as { token: string; kid: string; alg: string };
      expect(pass).toMatchObject({ kid, alg });
      const ok = await portier([
        'token',
        'verify',
        pass.token,
        '--state-dir',
        stateDir,
        '--lock',
        'toilet-1',
        '--json',
      ]);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ granted: true, reason: 'ok', kid, alg });

      // a gateway that has not imported it says so
      const other = join(tempDir(), 'other');
      const otherKey = await portier(['keys', 'generate', '--kid', 'someone-else', '--out', other]);
      expect(otherKey.code).toBe(0);
      await portier(['keys', 'import', join(other, 'someone-else.jwks.json'), '--state-dir', other]);
      const no = await portier(['token', 'verify', pass.token, '--state-dir', other, '--json']);
      expect(no.code).toBe(1);
      expect(JSON.parse(no.stdout)).toMatchObject({ granted: false, reason: 'unknown_key' });
    });
  }

  it('refuses to overwrite an existing key, and leaves it as it was', async () => {
    const dir = tempDir();
    expect((await portier(['keys', 'generate', '--kid', 'k1', '--out', dir])).code).toBe(0);
    const before = readFileSync(join(dir, 'k1.private.jwk.json'), 'utf8');
    const again = await portier(['keys', 'generate', '--kid', 'k1', '--out', dir]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/k1\.private\.jwk\.json exists: refusing to overwrite/);
    expect(readFileSync(join(dir, 'k1.private.jwk.json'), 'utf8')).toBe(before);

    // only the public file there (copied from elsewhere): still refused, nothing new written
    const dir2 = tempDir();
    writeFileSync(join(dir2, 'k2.jwks.json'), '{"keys":[]}');
    const half = await portier(['keys', 'generate', '--kid', 'k2', '--out', dir2]);
    expect(half.code).not.toBe(0);
    expect(half.stderr).toMatch(/k2\.jwks\.json exists/);
    expect(() => statSync(join(dir2, 'k2.private.jwk.json'))).toThrow();
  });

  it('rejects a kid that is not a plain word and an unknown alg', async () => {
    const dir = tempDir();
    const bad = await portier(['keys', 'generate', '--kid', '../x', '--out', dir]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--kid/);
    const alg = await portier(['keys', 'generate', '--kid', 'k', '--alg', 'RS256', '--out', dir]);
    expect(alg.code).not.toBe(0);
    expect(alg.stderr).toMatch(/--alg must be EdDSA or ES256/);
  });
});
