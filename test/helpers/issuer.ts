import { generateKeyPairSync } from 'node:crypto';
import { importSigningKey, issuePass, type PassSpec, type SigningKey } from '../../src/access/issue.js';

/** A fresh Ed25519 issuer: its signing key and the public JWK Set a gateway imports. */
export function makeIssuer(kid = 'town-2026'): { key: SigningKey; jwks: { keys: Array<Record<string, unknown>> } } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const priv = { ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'EdDSA' };
  const pub = { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'EdDSA' };
  return { key: importSigningKey(priv), jwks: { keys: [pub] } };
}

/** A PT1 (QR) pass for `aud`, valid for an hour from now unless the spec says otherwise. */
export async function pt1Pass(key: SigningKey, spec: Partial<PassSpec> & { aud: PassSpec['aud'] }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { token } = await issuePass(
    key,
    { exp: now + 3600, nbf: now - 60, iat: now - 1, sub: 'holder-1', ...spec },
    'pt1',
  );
  return token;
}
