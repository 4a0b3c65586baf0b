import { KeyStore, RevocationStore } from '../access/access-store.js';
import type { Keyring } from '../access/keyring.js';
import { matchPin } from '../access/pin.js';
import { PinStore } from '../access/pin-store.js';
import { checkPolicy, type TimeUnknownPolicy as TimePolicy } from '../access/policy.js';
import type { ReasonCode } from '../access/reasons.js';
import { pinId } from '../access/service.js';
import { verifyPass } from '../access/verify.js';
import { ZoneClock } from '../access/windows.js';
import type { Store } from '../store/store.js';

export interface CheckRequest {
  lock: string;
  pass?: string;
  pin?: string;
  /** The lock's groups (its `groups` setting), for `group:NAME` audiences. */
  lockGroups?: readonly string[];
  /** The lock's `time_unknown` setting; default deny. */
  timeUnknown?: TimePolicy;
}

export interface CheckResult {
  granted: boolean;
  reason: ReasonCode;
  lock: string;
  credential: 'pass' | 'pin';
  detail?: string;
  pass_id?: string;
  format?: string;
  kid?: string;
  exp?: string;
  uses_left?: number;
  dry_run: true;
}

/**
 * What the door would decide for a credential right now, without deciding: no `access.decision` event, no use
 * counted, no replay mark, no keypad failure counted, no time floor raised. AccessService.decide() commits as it
 * decides (by design: the use is durable before the relay moves) and has no dry-run, so this runs the same
 * published steps (verifyPass, checkPolicy, then the stored use count, revocation list and PIN state) read-only.
 * An operator checking a visitor's pass at the dashboard must not spend the visitor's single use.
 */
export class PassChecker {
  private readonly keys: KeyStore;
  private readonly revocations: RevocationStore;
  private readonly pins: PinStore;
  private readonly zone: ZoneClock;
  private keyring: Keyring | undefined;
  private keyringVersion = -1;

  constructor(
    private readonly store: Store,
    timezone = 'UTC',
  ) {
    this.keys = new KeyStore(store.db, store.meta);
    this.revocations = new RevocationStore(store.db, store.meta);
    this.pins = new PinStore(store.db);
    this.zone = new ZoneClock(timezone);
  }

  check(req: CheckRequest): CheckResult {
    return req.pin !== undefined
      ? this.checkPin(req.lock, req.pin, req)
      : this.checkPass(req.lock, req.pass ?? '', req);
  }

  private currentKeyring(): Keyring {
    const version = this.keys.version();
    if (!this.keyring || version !== this.keyringVersion) {
      this.keyring = this.keys.load();
      this.keyringVersion = version;
    }
    return this.keyring;
  }

  private checkPass(lock: string, text: string, req: CheckRequest): CheckResult {
    const base = { lock, credential: 'pass' as const, dry_run: true as const };
    const v = verifyPass(text, this.currentKeyring());
    if (!v.ok) {
      const out: CheckResult = { ...base, granted: false, reason: v.reason };
      if (v.detail) out.detail = v.detail;
      return out;
    }
    const c = v.claims;
    const now = this.store.clock.now();
    const facts = { pass_id: c.id, format: v.format, kid: v.kid, exp: new Date(c.exp * 1000).toISOString() };
    let reason: ReasonCode =
      checkPolicy(c, {
        lock,
        lockGroups: req.lockGroups ?? [],
        nowMs: now.ms,
        tq: now.tq,
        timeUnknownPolicy: req.timeUnknown ?? 'deny',
        zone: this.zone,
        isRevoked: (claims) => this.revocations.isRevoked(claims.id, claims.sub),
      }) ?? 'ok';
    let usesLeft: number | undefined;
    if (reason === 'ok' && c.uses !== undefined) {
      const used = (this.store.db.prepare('SELECT used FROM access_uses WHERE pass_id = ?').pluck().get(c.id) ??
        0) as number;
      usesLeft = Math.max(0, c.uses - used);
      if (usesLeft === 0) reason = 'uses_exhausted';
    }
    const out: CheckResult = { ...base, ...facts, granted: reason === 'ok', reason };
    if (usesLeft !== undefined) out.uses_left = usesLeft;
    return out;
  }

  private checkPin(lock: string, code: string, req: CheckRequest): CheckResult {
    const base = { lock, credential: 'pin' as const, dry_run: true as const };
    const deny = (reason: ReasonCode, detail?: string): CheckResult =>
      detail ? { ...base, granted: false, reason, detail } : { ...base, granted: false, reason };
    const now = this.store.clock.now();
    if (now.tq === 'unknown' && req.timeUnknown !== 'allow') return deny('time_unknown');
    const locked = this.pins.lockedFor(lock, now.ms);
    if (locked > 0) return deny('locked_out', `keypad locked for ${Math.ceil(locked / 1000)} s`);
    const secret = this.pins.secret(lock);
    if (!secret) return deny('unknown_key', 'no PIN secret for this lock');
    const trimmed = code.trim();
    const slot = matchPin(secret, lock, trimmed, Math.floor(now.ms / 1000));
    if (!slot) return deny(/^\d{6,8}$/.test(trimmed) ? 'wrong_code' : 'malformed');
    const id = pinId(lock, slot);
    if (this.revocations.isRevoked(id, undefined)) return { ...deny('revoked'), pass_id: id };
    if (slot.oneTime && this.pins.oneTimeUsed(lock, slot)) return { ...deny('uses_exhausted'), pass_id: id };
    return { ...base, granted: true, reason: 'ok', pass_id: id };
  }
}
