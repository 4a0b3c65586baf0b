import { generateKeyPairSync } from 'node:crypto';
import { importSigningKey, issuePass, type PassSpec, type SigningKey } from '../src/access/issue.js';

/**
 * The town's pass office, simulated: an Ed25519 issuer key made at start, its public JWK Set for the gateway's
 * keyring, and PT1 passes (the QR form) signed with it. In a town this lives in the cloud; the gateway only ever
 * sees the public key and the passes.
 */
export class PassOfficeStub {
  private readonly key: SigningKey;
  private readonly pub: Record<string, unknown>;

  constructor(readonly kid = 'demo-town') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.key = importSigningKey({ ...(privateKey.export({ format: 'jwk' }) as object), kid, alg: 'EdDSA' });
    this.pub = { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'EdDSA' };
  }

  /** The JWK Set to import into the gateway (`portier keys import`). */
  publicJwks(): { keys: Array<Record<string, unknown>> } {
    return { keys: [{ ...this.pub }] };
  }

  /** A PT1 pass for `aud`: valid from a minute ago for `hours` (default 24), with the rest of `spec` as given. */
  async issue(spec: Partial<PassSpec> & { aud: PassSpec['aud'] }, hours = 24): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const { token } = await issuePass(this.key, { nbf: now - 60, iat: now, exp: now + hours * 3600, ...spec }, 'pt1');
    return token;
  }
}
