import { readFileSync } from 'node:fs';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { z } from 'zod';
import { formatIssues } from '../../config/format-issues.js';
import { type Clock, MAX_FLOOR_STEP_MS } from '../../core/clock.js';
import { ErrorCode, PortierError } from '../../core/errors.js';
import { jwksSchema, signedClaimsSchema } from './schema.js';

/** A refused command: `reason` is the short stable code sent in the acknowledgement and counted. */
export class CommandRefused extends PortierError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(ErrorCode.SyncCommandRejected, message, { reason });
  }
}

/** A command whose iat lies beyond what the gateway knows: refused as `not_yet_valid`; the floor stays. */
export class FloorJumpRefused extends CommandRefused {
  constructor(
    readonly iatMs: number,
    readonly limitMs: number,
  ) {
    super('not_yet_valid', `issued ${new Date(iatMs).toISOString()}, beyond the time this gateway knows`);
  }
}

export interface VerifyOptions {
  /** the JWK Set file of operator keys (`cloud.operator_keys_file`) */
  keysFile: string | undefined;
  gatewayId: string;
  /** the topic's command name, which the signed payload must repeat */
  command: string;
  /** the envelope's id, which the signed payload must repeat */
  id: string;
  clock: Clock;
  /** s, the longest exp - iat accepted */
  maxLifetimeS: number;
  /** s of clock disagreement tolerated on iat, nbf and exp, default 300 */
  toleranceS?: number;
  /** s: the time to judge this command at when the clock is not trusted (the `time-floor` command's target) */
  judgeAt?: (payload: Record<string, unknown>) => number | undefined;
}

/** A verified command payload and the operator key that signed it. */
export interface VerifiedCommand {
  payload: Record<string, unknown>;
  kid: string | undefined;
}

const ALGORITHMS = ['EdDSA', 'ES256'];

const JOSE_REASONS: Record<string, string> = {
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'bad_signature',
  ERR_JWKS_NO_MATCHING_KEY: 'unknown_key',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'unknown_key',
  ERR_JOSE_ALG_NOT_ALLOWED: 'alg_not_allowed',
  ERR_JOSE_NOT_SUPPORTED: 'alg_not_allowed',
  ERR_JWS_INVALID: 'malformed',
};

/**
 * Read the operator keys: a JWK Set whose keys each pin `kid` and `alg` (EdDSA or ES256) and hold no private part.
 * Read at every signed command (they are rare), so replacing the file rotates the operator keys without a restart.
 */
export function loadOperatorKeys(path: string | undefined): JSONWebKeySet {
  if (!path) throw new CommandRefused('no_operator_keys', 'cloud.operator_keys_file is not configured');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CommandRefused('no_operator_keys', `cannot read operator keys ${path}: ${(err as Error).message}`);
  }
  const parsed = jwksSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = formatIssues(parsed.error.issues);
    throw new CommandRefused('no_operator_keys', `operator keys ${path}: ${problems.join('; ')}`);
  }
  return parsed.data as JSONWebKeySet;
}

/**
 * Verify a signed command: a compact JWS by an operator key whose payload is the command with `iat`, `exp` and the
 * gateway id as audience. Order: keys, signature (the key found by kid, its pinned alg), payload shape, id and
 * command match, audience, lifetime, then time.
 */
export async function verifySignedCommand(jws: string, opts: VerifyOptions): Promise<VerifiedCommand> {
  const keys = createLocalJWKSet(loadOperatorKeys(opts.keysFile));
  let verified: Awaited<ReturnType<typeof compactVerify>>;
  try {
    verified = await compactVerify(jws, keys, { algorithms: ALGORITHMS });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    throw new CommandRefused(JOSE_REASONS[code] ?? 'bad_signature', `signature: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(verified.payload));
  } catch {
    throw new CommandRefused('malformed', 'signed payload is not JSON');
  }
  const claims = signedClaimsSchema.safeParse(json);
  if (!claims.success) {
    throw new CommandRefused('malformed', `signed payload: ${formatIssues(claims.error.issues).join('; ')}`);
  }
  const c = claims.data;
  if (c.id !== opts.id) throw new CommandRefused('mismatch', `signed id "${c.id}" is not the envelope's "${opts.id}"`);
  if (c.cmd !== opts.command) {
    throw new CommandRefused('mismatch', `signed command "${c.cmd}" arrived on the "${opts.command}" topic`);
  }
  const audiences = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (!audiences.includes(opts.gatewayId)) {
    throw new CommandRefused('wrong_audience', `signed for ${audiences.join(', ')}, not ${opts.gatewayId}`);
  }
  if (c.exp <= c.iat) throw new CommandRefused('malformed', 'exp is not after iat');
  if (c.exp - c.iat > opts.maxLifetimeS) {
    throw new CommandRefused('lifetime_too_long', `lives ${c.exp - c.iat} s, more than ${opts.maxLifetimeS} s`);
  }
  checkTime(c, opts);
  return { payload: c, kid: verified.protectedHeader.kid };
}

/**
 * Time. With a trusted clock (NTP or RTC) the window is checked both ways. Without one, the clock is only a lower
 * bound (the persisted floor): a command that expired before it is certainly stale, one issued after it may well be
 * fresh, and its verified iat then raises the floor, as a verified pass's does, by at most MAX_FLOOR_STEP_MS beyond
 * the best time the gateway knows: a command that claims more is refused (and alarmed by the caller), whatever the
 * clock. The command is judged against the time before any raise: it must not vouch for its own freshness.
 * A command with `judgeAt` (the `time-floor` command, which sets the time the others are judged by) is judged at that
 * time instead when the clock is not trusted, and its iat moves nothing.
 */
function checkTime(c: z.output<typeof signedClaimsSchema>, opts: VerifyOptions): void {
  const before = opts.clock.now();
  const tolerance = opts.toleranceS ?? 300;
  const trusted = before.tq === 'synced' || before.tq === 'rtc';
  const judgeAt = trusted ? undefined : opts.judgeAt?.(c);
  if (judgeAt === undefined) {
    const limitMs = opts.clock.bestKnown() + MAX_FLOOR_STEP_MS;
    if (c.iat * 1000 > limitMs) throw new FloorJumpRefused(c.iat * 1000, limitMs);
  }
  const now = judgeAt ?? before.ms / 1000;
  if (
    (trusted || judgeAt !== undefined) &&
    (c.iat > now + tolerance || (c.nbf !== undefined && c.nbf > now + tolerance))
  ) {
    throw new CommandRefused('not_yet_valid', 'issued in the future');
  }
  if (c.exp <= now - tolerance) {
    throw new CommandRefused('expired', `expired at ${new Date(c.exp * 1000).toISOString()}`);
  }
  if (!trusted && judgeAt === undefined) opts.clock.offerIat(c.iat * 1000);
}
