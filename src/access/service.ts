import { Counter } from 'prom-client';
import type { Clock, Now } from '../core/clock.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import type { PortierEvent } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import { KeyStore, META_REVOCATION_VERSION, RevocationStore } from '../store/access-store.js';
import { CardStore } from '../store/card-store.js';
import { isDiskFull } from '../store/disk-space.js';
import { durableTransaction } from '../store/durable.js';
import type { EventLog } from '../store/event-log.js';
import type { MetaStore } from '../store/meta.js';
import { PassUses } from '../store/pass-uses.js';
import { DEFAULT_LOCKOUT, type LockoutPolicy, PinStore } from '../store/pin-store.js';
import type { Store } from '../store/store.js';
import type { PassClaims } from './claims.js';
import type { Keyring } from './keyring.js';
import { matchPin, type PinSlot } from './pin.js';
import { audienceMatches, checkPolicy, DEFAULT_LEEWAY_S, type TimeUnknownPolicy } from './policy.js';
import type { ReasonCode } from './reasons.js';
import { SubjectHasher } from './subject.js';
import { verifyPass } from './verify.js';
import { ZoneClock } from './windows.js';

/** The parts of the store the access service uses (src/store/store.ts), injected. */
export interface AccessStoreDeps {
  db: Store['db'];
  events: EventLog;
  meta: MetaStore;
  clock: Clock;
}

export interface AccessServiceOptions {
  store: AccessStoreDeps;
  /** IANA zone of pass windows (config `gateway.timezone`), default UTC. */
  timezone?: string;
  /** s of clock difference tolerated at nbf/exp, 0-600, default 60. */
  leewayS?: number;
  lockout?: LockoutPolicy;
  log?: Logger;
  metrics?: Metrics;
}

export type CredentialKind = 'pass' | 'pin' | 'card';

export interface DecisionRequest {
  /** The lock (device id) the credential was presented at. */
  lock: string;
  /** The lock's groups from its config, for `group:NAME` audiences. */
  lockGroups?: readonly string[];
  credential: { kind: CredentialKind; value: string | Uint8Array };
  /** The door's rule when the gateway does not know the time; default deny. */
  timeUnknownPolicy?: TimeUnknownPolicy;
  /** The reader that took the credential, for the audit trail. */
  reader?: string;
}

/** A committed decision: when `granted`, the use is durable and the caller may move the relay. */
export interface Decision {
  granted: boolean;
  reason: ReasonCode;
  lock: string;
  credential: CredentialKind;
  /** Pass id, `pin:<lock>:<slot>:<hours>:<once|dur>`, or `card:<number>`. */
  passId?: string;
  /** Keyed hash of the holder's `sub`; the raw `sub` never leaves the service. */
  subject?: string;
  revocationVersion: number;
  /** Openings left after this one, for passes with `uses`. */
  usesLeft?: number;
  /** The `access.decision` event as committed. */
  event: PortierEvent;
}

interface Draft {
  reason: ReasonCode;
  passId?: string;
  sub?: string;
  extra?: Record<string, unknown>;
  /** Runs inside the commit transaction; may turn a grant into a denial (uses, replay). */
  commit?: () => { reason?: ReasonCode; extra?: Record<string, unknown> } | undefined;
  /** The same judgement as `commit`, read-only, for a preview. */
  check?: () => { reason?: ReasonCode; extra?: Record<string, unknown> } | undefined;
  /** s, the pass's expiry (previews show it). */
  exp?: number;
}

/** What `decide` would answer now: nothing recorded, no use counted, no time floor raised. */
export interface DecisionPreview {
  granted: boolean;
  reason: ReasonCode;
  lock: string;
  credential: CredentialKind;
  passId?: string;
  /** Verification facts and what the commit step would add (format, kid, uses_left, detail, ...). */
  extra: Record<string, unknown>;
  /** s, the pass's expiry */
  exp?: number;
}

/** Days an expired pass's use count is kept after its `exp` (the floor makes older rows useless). */
const KEEP_USES_MS = 86_400_000;

/**
 * Decides whether a credential opens a lock, offline, and records every decision as a durable `access.decision`
 * event. For a grant the use count and replay mark are written in the same synchronous=FULL transaction as the
 * event, and `decide` returns only after that commit: a crash after it cannot give a single-use pass a second use.
 */
export class AccessService {
  readonly keys: KeyStore;
  readonly revocations: RevocationStore;
  readonly pins: PinStore;
  readonly cards: CardStore;
  private readonly db: Store['db'];
  private readonly meta: MetaStore;
  private readonly uses: PassUses;
  private readonly events: EventLog;
  private readonly clock: Clock;
  private readonly zone: ZoneClock;
  private readonly leewayS: number;
  private readonly subjects: SubjectHasher;
  private readonly log: Logger | undefined;
  private readonly counter: Counter<'lock' | 'reason'> | undefined;
  private keyring: Keyring;
  private keyringVersion: number;
  private decisions = 0;

  constructor(opts: AccessServiceOptions) {
    const { db, events, meta, clock } = opts.store;
    this.db = db;
    this.events = events;
    this.clock = clock;
    this.zone = new ZoneClock(opts.timezone ?? 'UTC');
    this.leewayS = opts.leewayS ?? DEFAULT_LEEWAY_S;
    this.log = opts.log?.child({ component: 'access' });
    this.keys = new KeyStore(db, meta);
    this.revocations = new RevocationStore(db, meta);
    this.pins = new PinStore(db, opts.lockout ?? DEFAULT_LOCKOUT);
    this.cards = new CardStore(db);
    this.subjects = new SubjectHasher(meta);
    this.meta = meta;
    this.uses = new PassUses(db);
    this.keyringVersion = this.keys.version();
    this.keyring = this.keys.load();
    if (opts.metrics) {
      const name = 'portier_access_decisions_total';
      this.counter =
        (opts.metrics.registry.getSingleMetric(name) as Counter<'lock' | 'reason'> | undefined) ??
        new Counter({
          name,
          help: 'Access decisions, by lock and reason (ok = granted)',
          labelNames: ['lock', 'reason'] as const,
          registers: [opts.metrics.registry],
        });
    }
    this.prune();
  }

  /**
   * Decide, commit durably, and return. Never throws for bad credentials: they are denials with a reason. Throws
   * only when the store cannot commit (disk full, I/O error); then nothing was recorded and the door stays shut.
   */
  decide(req: DecisionRequest): Decision {
    const draft = this.draft(req, true);
    const decision = this.commit(req, draft);
    this.counter?.inc({ lock: req.lock, reason: decision.reason });
    this.log?.info(
      { lock: req.lock, credential: req.credential.kind, reason: decision.reason, passId: decision.passId },
      decision.granted ? 'access granted' : 'access denied',
    );
    if (++this.decisions % 1000 === 0) this.prune();
    return decision;
  }

  /**
   * What `decide` would answer for this credential now, through the same steps, without deciding: no event, no use
   * counted, no replay mark, no keypad failure, no time floor raised. An operator checking a visitor's pass at the
   * dashboard must not spend the visitor's single use.
   */
  preview(req: DecisionRequest): DecisionPreview {
    const draft = this.draft(req, false);
    const kind = req.credential.kind;
    let reason = draft.reason;
    let extra = { ...(draft.extra ?? {}) };
    if (reason === 'ok') {
      const after = draft.check?.();
      if (after?.reason) reason = after.reason;
      if (after?.extra) extra = { ...extra, ...after.extra };
    }
    const preview: DecisionPreview = { granted: reason === 'ok', reason, lock: req.lock, credential: kind, extra };
    if (draft.passId !== undefined) preview.passId = draft.passId;
    if (draft.exp !== undefined) preview.exp = draft.exp;
    return preview;
  }

  /** The keyring in use, re-read when `keys import|remove` changed it (possibly from another process). */
  currentKeyring(): Keyring {
    const version = Number(this.meta.get('access.keyring_version') ?? '0');
    if (version !== this.keyringVersion) {
      this.keyring = this.keys.load();
      this.keyringVersion = version;
    }
    return this.keyring;
  }

  /** The steps before the commit, for each kind of credential; `deciding` false for a preview. */
  private draft(req: DecisionRequest, deciding: boolean): Draft {
    const now = this.clock.now();
    const { kind, value } = req.credential;
    if (kind === 'pass') return this.draftPass(req, value, now, deciding);
    if (kind === 'pin') return this.draftPin(req, typeof value === 'string' ? value : '', now);
    return this.draftCard(req, typeof value === 'string' ? value.trim() : '', now);
  }

  private draftPass(req: DecisionRequest, value: string | Uint8Array, before: Now, deciding: boolean): Draft {
    const v = verifyPass(value, this.currentKeyring());
    if (!v.ok) return { reason: v.reason, extra: { detail: v.detail } };
    const c = v.claims;
    // A validly signed iat is evidence of the time, the only one a clockless gateway has; a synced clock needs none
    // (and must not be pushed ahead by an issuer whose own clock runs fast). The raised floor moves `now` forward,
    // which can only make a pass expire sooner; the time quality stays what it was before this pass, because a pass
    // must not vouch for its own freshness (an old pass shown to a gateway that has never known the time would
    // otherwise be judged at its own iat and open).
    if (deciding && c.iat !== undefined && (before.tq === 'floor' || before.tq === 'unknown')) {
      this.clock.raiseFloor(c.iat * 1000);
    }
    const now = this.clock.now();
    const base = { passId: c.id, extra: { format: v.format, kid: v.kid } } as const;
    const reason = checkPolicy(c, {
      lock: req.lock,
      lockGroups: req.lockGroups ?? [],
      nowMs: now.ms,
      tq: before.tq,
      timeUnknownPolicy: req.timeUnknownPolicy ?? 'deny',
      zone: this.zone,
      leewayS: this.leewayS,
      isRevoked: (claims) => this.revocations.isRevoked(claims.id, claims.sub),
    });
    const draft: Draft = { ...base, reason: reason ?? 'ok', exp: c.exp };
    if (c.sub !== undefined) draft.sub = c.sub;
    if (!reason && c.uses !== undefined) {
      draft.commit = () => this.countUse(c, now.ms);
      draft.check = () => this.usesLeft(c);
    }
    return draft;
  }

  /** How many uses the pass has left (read-only: a preview uses it as it is, `countUse` before counting one). */
  private usesLeft(c: PassClaims): { reason?: ReasonCode; extra: Record<string, unknown> } {
    const left = Math.max(0, c.uses! - this.uses.used(c.id));
    return left === 0 ? { reason: 'uses_exhausted', extra: { uses_left: 0 } } : { extra: { uses_left: left } };
  }

  /** Inside the commit transaction: refuse a pass whose uses are spent, else count this one. */
  private countUse(c: PassClaims, nowMs: number): { reason?: ReasonCode; extra?: Record<string, unknown> } {
    const left = this.usesLeft(c);
    if (left.reason) return left;
    this.uses.count(c.id, c.uses!, c.exp, nowMs);
    return { extra: { uses_left: (left.extra.uses_left as number) - 1 } };
  }

  private draftPin(req: DecisionRequest, code: string, now: Now): Draft {
    const lock = req.lock;
    if (now.tq === 'unknown' && req.timeUnknownPolicy !== 'allow') return { reason: 'time_unknown' };
    const lockedMs = this.pins.lockedFor(lock, now.ms);
    if (lockedMs > 0) return { reason: 'locked_out', extra: { locked_ms: lockedMs } };
    const secret = this.pins.secret(lock);
    if (!secret) return { reason: 'unknown_key', extra: { detail: 'no PIN secret for this lock' } };
    const trimmed = code.trim();
    const slot = matchPin(secret, lock, trimmed, Math.floor(now.ms / 1000));
    if (!slot) {
      const malformed = !/^\d{6,8}$/.test(trimmed);
      return {
        reason: malformed ? 'malformed' : 'wrong_code',
        commit: () => {
          const f = this.pins.recordFailure(lock, now.ms);
          return { extra: { failures: f.failures, locked_ms: f.lockedMs } };
        },
      };
    }
    const passId = pinId(lock, slot);
    if (this.revocations.isRevoked(passId, undefined)) return { reason: 'revoked', passId };
    return {
      reason: 'ok',
      passId,
      check: () => (slot.oneTime && this.pins.oneTimeUsed(lock, slot) ? { reason: 'uses_exhausted' } : undefined),
      commit: () => {
        if (slot.oneTime) {
          if (this.pins.oneTimeUsed(lock, slot)) return { reason: 'uses_exhausted' };
          this.pins.markOneTimeUsed(lock, slot);
        }
        this.pins.recordSuccess(lock);
        return undefined;
      },
    };
  }

  private draftCard(req: DecisionRequest, card: string, now: Now): Draft {
    const grant = card ? this.cards.get(card) : undefined;
    if (!grant) return { reason: 'unknown_card' };
    const draft: Draft = { reason: 'ok', passId: `card:${grant.card}` };
    if (grant.sub !== undefined) draft.sub = grant.sub;
    const leewayMs = this.leewayS * 1000;
    if (!audienceMatches(grant.aud, req.lock, req.lockGroups)) draft.reason = 'wrong_lock';
    else if (now.tq === 'unknown' && req.timeUnknownPolicy !== 'allow' && (grant.nbf ?? grant.exp) !== undefined) {
      draft.reason = 'time_unknown';
    } else if (grant.nbf !== undefined && now.ms + leewayMs < grant.nbf * 1000) draft.reason = 'not_yet_valid';
    else if (grant.exp !== undefined && now.ms - leewayMs >= grant.exp * 1000) draft.reason = 'expired';
    else if (this.revocations.isRevoked(draft.passId!, grant.sub)) draft.reason = 'revoked';
    return draft;
  }

  /**
   * Write the decision event (and, for a grant, the use count) in one synchronous=FULL transaction. On a full disk
   * the event log's disk guard makes room (it gives back its reserve) and the transaction is tried once more; if it
   * still cannot be written, this throws `StoreFull` and nothing was recorded (the door stays shut).
   */
  private commit(req: DecisionRequest, draft: Draft): Decision {
    // Everything recorded before the decision is committed first (the writer thread's batches included), so the
    // transaction below writes alone.
    this.events.flush();
    try {
      return this.commitOnce(req, draft);
    } catch (err) {
      if (!isDiskFull(err) || !this.events.relieve(err)) throw err;
      this.log?.error({ lock: req.lock }, 'access decision not committed: the disk is full; retrying in the reserve');
    }
    try {
      return this.commitOnce(req, draft);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      const message = 'the disk is full: the access decision could not be recorded';
      throw new PortierError(ErrorCode.StoreFull, message, { lock: req.lock }, { cause: err });
    }
  }

  private commitOnce(req: DecisionRequest, draft: Draft): Decision {
    let decision: Decision;
    try {
      decision = durableTransaction(this.db, () => {
        let reason = draft.reason;
        let extra = draft.extra ?? {};
        const after = draft.commit?.();
        if (after?.reason) reason = after.reason;
        if (after?.extra) extra = { ...extra, ...after.extra };
        const revocationVersion = Number(this.meta.get(META_REVOCATION_VERSION) ?? '0');
        const subject = draft.sub === undefined ? undefined : this.subjects.pseudonym(draft.sub);
        const data: Record<string, unknown> = {
          credential: req.credential.kind,
          granted: reason === 'ok',
          reason,
          lock: req.lock,
          revocation_version: revocationVersion,
          ...extra,
        };
        if (draft.passId !== undefined) data.pass_id = draft.passId;
        if (subject !== undefined) data.subject = subject;
        if (req.reader !== undefined) data.reader = req.reader;
        this.clock.persist();
        // Announced only once the transaction has committed: a COMMIT that fails (a full disk) announces nothing.
        const event = this.events.appendWithin({ dev: req.lock, type: 'access.decision', data });
        const d: Decision = {
          granted: reason === 'ok',
          reason,
          lock: req.lock,
          credential: req.credential.kind,
          revocationVersion,
          event,
        };
        if (draft.passId !== undefined) d.passId = draft.passId;
        if (subject !== undefined) d.subject = subject;
        if (typeof extra.uses_left === 'number') d.usesLeft = extra.uses_left;
        return d;
      });
    } catch (err) {
      this.events.settleWithin(false);
      throw err;
    }
    this.events.settleWithin(true);
    return decision;
  }

  /** Drop use counts and one-time PIN marks that can no longer matter (older than the time floor allows). */
  prune(): void {
    const floor = this.clock.timeFloor();
    if (floor <= KEEP_USES_MS) return;
    const cutoff = floor - KEEP_USES_MS;
    this.uses.prune(Math.floor(cutoff / 1000));
    this.pins.prune(cutoff);
  }
}

/** The id a PIN code is known by in decisions and on the revocation list. */
export function pinId(lock: string, slot: PinSlot): string {
  return `pin:${lock}:${slot.slotStart}:${slot.hours}:${slot.oneTime ? 'once' : 'dur'}`;
}
