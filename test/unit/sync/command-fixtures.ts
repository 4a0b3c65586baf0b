import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { CommandHandlers, CommandResult } from '../../../src/sync/commands/handlers.js';
import type { DeviceSpec, PublicJwks, RevocationEntry, RevocationList } from '../../../src/sync/commands/schema.js';

/**
 * RFC 8037, Appendix A.1: the Ed25519 key pair of the JOSE specification's examples. Used here as an operator key
 * (public part in the gateway's operator key file, private part to sign test commands).
 */
export const RFC8037_KEY = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
} as const;

/** RFC 8037, Appendix A.4: a JWS by that key over "Example of Ed25519 signing" (valid signature, not a command). */
export const RFC8037_JWS =
  'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg';

export interface Operators {
  /** path of the gateway's operator key file */
  file: string;
  /** sign a command payload with the RFC 8037 key (kid "op-ed") */
  signEd(payload: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  /** sign with the ES256 operator key (kid "op-es") */
  signEs(payload: Record<string, unknown>): Promise<string>;
  /** sign with a key the gateway does not know (kid "op-ed", Ed25519) */
  signStranger(payload: Record<string, unknown>): Promise<string>;
}

/** Write an operator key file (Ed25519 from RFC 8037 + a fresh ES256 key) into `dir`, and signers for tests. */
export async function makeOperators(dir: string): Promise<Operators> {
  const { d: _d, ...edPublic } = RFC8037_KEY;
  const es = await generateKeyPair('ES256', { extractable: true });
  const esPublic = await exportJWK(es.publicKey);
  const stranger = await generateKeyPair('EdDSA', { extractable: true });
  const file = join(dir, 'operators.jwks.json');
  writeFileSync(
    file,
    JSON.stringify({
      keys: [
        { ...edPublic, kid: 'op-ed', alg: 'EdDSA', use: 'sig' },
        { ...esPublic, kid: 'op-es', alg: 'ES256', use: 'sig' },
      ],
    }),
  );
  const edPrivate = await importJWK({ ...RFC8037_KEY } as JWK, 'EdDSA');
  const sign = (key: Parameters<CompactSign['sign']>[0], header: Record<string, unknown>, p: object) =>
    new CompactSign(new TextEncoder().encode(JSON.stringify(p)))
      .setProtectedHeader(header as { alg: string })
      .sign(key);
  return {
    file,
    signEd: (p, header = {}) => sign(edPrivate, { alg: 'EdDSA', kid: 'op-ed', ...header }, p),
    signEs: (p) => sign(es.privateKey, { alg: 'ES256', kid: 'op-es' }, p),
    signStranger: (p) => sign(stranger.privateKey, { alg: 'EdDSA', kid: 'op-ed' }, p),
  };
}

/** Claims for a command signed now for `gw`, valid for an hour. */
export function claims(gw: string, id: string, cmd: string, fields: Record<string, unknown>, nowS = Date.now() / 1000) {
  const iat = Math.floor(nowS);
  return { id, cmd, aud: gw, iat, exp: iat + 3600, ...fields };
}

/** Command handlers that record what they were asked to do; checks report what `problems` says. */
export class RecordingHandlers implements CommandHandlers {
  readonly calls: Array<{ name: string; args: unknown }> = [];
  deviceProblems: string[] = [];
  configProblems: string[] = [];
  grant = true;

  checkDevices(devices: DeviceSpec[]): string[] {
    this.calls.push({ name: 'checkDevices', args: devices });
    return this.deviceProblems;
  }
  provision(devices: DeviceSpec[]) {
    this.calls.push({ name: 'provision', args: devices });
    return { provisioned: devices.length };
  }
  removeDevice(id: string) {
    this.calls.push({ name: 'removeDevice', args: id });
    return undefined;
  }
  importKeys(jwks: PublicJwks, opts: { replace: boolean }) {
    this.calls.push({ name: 'importKeys', args: { jwks, ...opts } });
    return undefined;
  }
  revoke(entries: RevocationEntry[]) {
    this.calls.push({ name: 'revoke', args: entries });
    return undefined;
  }
  replaceRevocations(list: RevocationList) {
    this.calls.push({ name: 'replaceRevocations', args: list });
    return { applied: true };
  }
  async openWithPass(lock: string, pass: string) {
    this.calls.push({ name: 'openWithPass', args: { lock, pass } });
    return this.grant ? { granted: true, reason: 'granted' } : { granted: false, reason: 'expired' };
  }
  checkConfig(bundle: Record<string, unknown>): string[] {
    this.calls.push({ name: 'checkConfig', args: bundle });
    return this.configProblems;
  }
  setConfig(bundle: Record<string, unknown>) {
    this.calls.push({ name: 'setConfig', args: bundle });
    return undefined;
  }

  setTimeFloor(floorMs: number, issuedAtS: number): CommandResult {
    this.calls.push({ name: 'setTimeFloor', args: { floorMs, issuedAtS } });
    return { floor: new Date(floorMs).toISOString() };
  }

  applied(): string[] {
    return this.calls.map((c) => c.name).filter((n) => !n.startsWith('check'));
  }
}
