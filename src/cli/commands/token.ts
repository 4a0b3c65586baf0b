import { readFileSync } from 'node:fs';
import { claimsJson } from '../../access/claims.js';
import { importSigningKey, issuePass, PASS_FORMATS, type PassFormat, type PassSpec } from '../../access/issue.js';
import { Keyring } from '../../access/keyring.js';
import { checkPolicy } from '../../access/policy.js';
import type { ReasonCode } from '../../access/reasons.js';
import { verifyPass } from '../../access/verify.js';
import { ZoneClock } from '../../access/windows.js';
import { type Command, output, str, UsageError } from '../command.js';
import { asJwks, guarded, readJsonFile, withAccess } from './keys.js';

/**
 * A time for an option: ISO 8601, Unix seconds, or relative to now (`+30m`, `+2h`, `+7d`, `-1h`). Returns s.
 */
export function parseTimeArg(text: string, name: string, nowS = Math.floor(Date.now() / 1000)): number {
  const rel = /^([+-])(\d+)([smhd])$/.exec(text);
  if (rel) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[rel[3] as 's' | 'm' | 'h' | 'd'];
    return nowS + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * unit;
  }
  if (/^\d{9,11}$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--${name}: expected an ISO time, Unix seconds or +2h/+7d, got "${text}"`);
  return Math.floor(ms / 1000);
}

function readToken(arg: string | undefined): string {
  if (arg === undefined) throw new UsageError('give the pass text (or - to read it from stdin)');
  return arg === '-' ? readFileSync(0, 'utf8') : arg;
}

const verify: Command = {
  path: ['token', 'verify'],
  summary: "Verify a pass against a JWK Set or a gateway's keyring and, with --lock, the door policy; exit 0 granted",
  usage: 'TOKEN|- --keys JWKS_FILE|--state-dir DIR [--lock ID] [--group NAME]... [--at ISO_TIME] [--tz ZONE] [--json]',
  options: {
    keys: { type: 'string', arg: 'JWKS_FILE', description: "a JWK Set with the issuers' public keys" },
    'state-dir': {
      type: 'string',
      arg: 'DIR',
      description: "instead of --keys: the keyring a gateway imported (its state directory's database)",
    },
    lock: { type: 'string', arg: 'ID', description: 'check the door policy for this lock (audience, windows, uses)' },
    group: {
      type: 'string',
      multiple: true,
      arg: 'NAME',
      description: 'a group the lock belongs to (for group: audiences)',
    },
    at: { type: 'string', arg: 'ISO_TIME', description: 'verify as at this time (ISO, Unix s, +2h)', default: 'now' },
    tz: { type: 'string', arg: 'ZONE', description: 'time zone of the time windows', default: 'UTC' },
  },
  run(args, io) {
    const keysFile = str(args, 'keys');
    const stateDir = str(args, 'state-dir');
    if (!keysFile === !stateDir) throw new UsageError('give --keys JWKS_FILE or --state-dir DIR');
    if (args.positionals.length > 1) throw new UsageError('give one pass');
    const token = readToken(args.positionals[0]);
    const atText = str(args, 'at');
    const nowMs = atText === undefined ? Date.now() : parseTimeArg(atText, 'at') * 1000;
    // reading a private JWK here is harmless (a local file on the operator's machine): only its public part is used
    const keyring = keysFile
      ? Keyring.fromJwks(asJwks(readJsonFile(keysFile)), { allowPrivate: true })
      : withAccess(args, io, (access) => access.currentKeyring());
    if (keyring.size === 0) throw new UsageError(`${keysFile ?? stateDir} holds no usable EdDSA or ES256 key`);
    const zone = new ZoneClock(str(args, 'tz') ?? 'UTC');
    const v = verifyPass(token, keyring);
    let reason: ReasonCode;
    let result: Record<string, unknown>;
    if (!v.ok) {
      reason = v.reason;
      result = { granted: false, reason, claims: {}, detail: v.detail, signature_valid: v.signatureValid };
    } else {
      const lock = str(args, 'lock');
      const groups = (args.values.group as string[] | undefined) ?? [];
      const ctx = { nowMs, tq: 'synced' as const, zone, ...(lock === undefined ? {} : { lock, lockGroups: groups }) };
      reason = checkPolicy(v.claims, ctx) ?? 'ok';
      result = {
        granted: reason === 'ok',
        reason,
        claims: claimsJson(v.claims),
        format: v.format,
        kid: v.kid,
        alg: v.alg,
        signature_valid: true,
      };
    }
    output(io, args, result, () =>
      result.granted
        ? `granted: ${v.ok ? `${v.format} pass ${v.claims.id} signed by ${v.kid} (${v.alg}), expires ${new Date(v.claims.exp * 1000).toISOString()}` : ''}`
        : `denied: ${reason}${typeof result.detail === 'string' ? ` (${result.detail})` : ''}`,
    );
    return reason === 'ok' ? 0 : 1;
  },
};

const issue: Command = {
  path: ['token', 'issue'],
  summary: 'Sign a pass with a private JWK (operators, demos, tests); --qr for the scannable PT1 form',
  usage:
    '--key PRIVATE_JWK_FILE --aud LOCK|group:NAME [--aud ...] [--sub SUB] [--exp TIME] [--nbf TIME] [--uses N] ' +
    '[--win JSON] [--id ID] [--iss ISS] [--format pt1|jwt|b64|hex] [--qr] [--json]',
  options: {
    key: { type: 'string', arg: 'PRIVATE_JWK_FILE', description: 'the signing key (required)' },
    aud: {
      type: 'string',
      multiple: true,
      arg: 'LOCK|group:NAME',
      description: 'a lock or group:NAME it opens (required)',
    },
    sub: { type: 'string', arg: 'SUB', description: "the holder's pseudonym" },
    exp: { type: 'string', arg: 'TIME', description: 'when it expires (ISO, Unix s, +2h, +7d)', default: '+24h' },
    nbf: { type: 'string', arg: 'TIME', description: 'not valid before (ISO, Unix s, +2h)' },
    uses: { type: 'string', arg: 'N', description: 'openings it allows', default: 'unlimited' },
    win: { type: 'string', arg: 'JSON', description: 'time windows such as [["mon-fri","07:00","19:00"]]' },
    id: { type: 'string', arg: 'ID', description: 'the pass id', default: 'a random one' },
    iss: { type: 'string', arg: 'ISS', description: 'the issuer' },
    format: { type: 'string', arg: 'pt1|jwt|b64|hex', description: 'the encoding', default: 'pt1' },
    qr: { type: 'boolean', description: 'also draw it as a QR code' },
  },
  async run(args, io) {
    const keyFile = str(args, 'key');
    if (!keyFile) throw new UsageError('give --key PRIVATE_JWK_FILE');
    const aud = (args.values.aud as string[] | undefined) ?? [];
    if (aud.length === 0) throw new UsageError('give --aud LOCK (or group:NAME), once per lock');
    const format = (str(args, 'format') ?? 'pt1') as PassFormat;
    if (!PASS_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${PASS_FORMATS.join(', ')}`);
    const key = importSigningKey(readJsonFile(keyFile));
    const nowS = Math.floor(Date.now() / 1000);
    const spec: PassSpec = {
      aud: aud.length === 1 ? aud[0]! : aud,
      exp: parseTimeArg(str(args, 'exp') ?? '+24h', 'exp', nowS),
      iat: nowS,
    };
    const nbf = str(args, 'nbf');
    if (nbf !== undefined) spec.nbf = parseTimeArg(nbf, 'nbf', nowS);
    for (const k of ['sub', 'id', 'iss'] as const) {
      const v = str(args, k);
      if (v !== undefined) spec[k] = v;
    }
    const uses = str(args, 'uses');
    if (uses !== undefined) {
      if (!/^\d+$/.test(uses) || Number(uses) < 1) throw new UsageError('--uses must be a positive integer');
      spec.uses = Number(uses);
    }
    const win = str(args, 'win');
    if (win !== undefined) {
      try {
        spec.win = JSON.parse(win) as string[][];
      } catch {
        throw new UsageError('--win must be JSON such as [["mon-fri","07:00","19:00"]]');
      }
    }
    const { token, id } = await issuePass(key, spec, format);
    const res = { token, id, format, kid: key.kid, alg: key.alg, exp: spec.exp };
    output(io, args, res, () => token);
    if (args.values.qr && !args.values.json) io.out(await terminalQr(token));
    return 0;
  },
};

/**
 * The pass as a QR code drawn with half blocks (two modules per character row), dark on a light terminal or the
 * inverse, with the quiet zone the standard asks for. Error correction M, as wallet and SMS passes use.
 */
export async function terminalQr(text: string): Promise<string> {
  // Loaded only here: every other command (the daemon's included) goes without it.
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
}

export const tokenCommands: readonly Command[] = [verify, issue].map(guarded);
