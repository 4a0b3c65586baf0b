import { Counter } from 'prom-client';
import { type Clock, MAX_FLOOR_STEP_MS, type Now } from '../core/clock.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import type { PortierEvent } from '../core/events.js';
import { FloorJumpAlarm } from '../core/floor-alarm.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import { KeyStore, META_REVOCATION_VERSION, RevocationStore } from '../store/access-store.js';
import { CardStore } from '../store/card-store.js';
import { isDiskFull } from '../store/disk-space.js';
import { durableTransaction } from '../store/durable.js';
import type { EventLog } from '../store/event-log.js';
import type { MetaStore } from '../store/meta.js';
import { PassUses } from '../store/pass-uses.js';
import { PinStore } from '../store/pin-store.js';
import type { Store } from '../store/store.js';
import { recordFloorAudits } from '../store/time-floor.js';
import type { PassClaims } from './claims.js';
import { type Draft, draftCard, draftPin } from './credential-drafts.js';
import type { Keyring } from './keyring.js';
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
  /** Digits a PIN must have at this lock (its `pin_length`, 8-10, default 8); any other length is `malformed`. */
  pinLength?: number;
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
  private readonly deps: AccessStoreDeps;
  private readonly meta: MetaStore;
  private readonly uses: PassUses;
  private readonly events: EventLog;
  private readonly clock: Clock;
  private readonly zone: ZoneClock;
  private readonly leewayS: number;
  private readonly subjects: SubjectHasher;
  private readonly floorAlarm: FloorJumpAlarm;
  private readonly log: Logger | undefined;
  private readonly counter: Counter<'lock' | 'reason'> | undefined;
  private keyring: Keyring;
  private keyringVersion: number;
  private decisions = 0;

  constructor(opts: AccessServiceOptions) {
    const { db, events, meta, clock } = opts.store;
    this.deps = opts.store;
    this.db = db;
    this.events = events;
    this.clock = clock;
    this.zone = new ZoneClock(opts.timezone ?? 'UTC');
    this.leewayS = opts.leewayS ?? DEFAULT_LEEWAY_S;
    this.log = opts.log?.child({ component: 'access' });
    this.keys = new KeyStore(db, meta);
    this.revocations = new RevocationStore(db, meta);
    this.pins = new PinStore(db);
    this.cards = new CardStore(db);
    this.floorAlarm = new FloorJumpAlarm(events);
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
    // an operator's `portier time floor` from another process: adopt it, and record its audit in this process
    if (this.clock.reload()) recordFloorAudits(this.deps, this.events.gw);
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
    if (kind === 'pin') return draftPin(this, req, typeof value === 'string' ? value : '', now);
    return draftCard(this, req, typeof value === 'string' ? value.trim() : '', now, this.leewayS);
  }

  private draftPass(req: DecisionRequest, value: string | Uint8Array, before: Now, deciding: boolean): Draft {
    const v = verifyPass(value, this.currentKeyring());
    if (!v.ok) return { reason: v.reason, extra: { detail: v.detail } };
    const c = v.claims;
    if (deciding && c.iat !== undefined) this.offerIat(req, c);
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

  /**
   * A validly signed iat is evidence of the time, the only one a clockless gateway has. It may raise the floor only
   * when the pass is good here (audience, `iat <= exp`), and only within MAX_FLOOR_STEP_MS of the best time the
   * gateway otherwise knows (Clock.offerIat; a synced clock or an RTC takes no one's word). An iat beyond that, from
   * any validly signed pass, is an issuer clock gone wrong: the floor stays and an alarm is raised. The raised floor
   * moves `now` forward, which can only make a pass expire sooner; the time quality stays what it was before this
   * pass, because a pass must not vouch for its own freshness (an old pass shown to a gateway that has never known
   * the time would otherwise be judged at its own iat and open).
   */
  private offerIat(req: DecisionRequest, c: PassClaims): void {
    const iatMs = c.iat! * 1000;
    const good = c.iat! <= c.exp && audienceMatches(c.aud, req.lock, req.lockGroups);
    const limitMs = this.clock.bestKnown() + MAX_FLOOR_STEP_MS;
    const offer = good
      ? this.clock.offerIat(iatMs)
      : iatMs > limitMs
        ? ({ outcome: 'refused', limitMs } as const)
        : undefined;
    if (offer?.outcome !== 'refused') return;
    const data = { source: 'pass', lock: req.lock, pass_id: c.id, iatMs, limitMs: offer.limitMs } as const;
    if (this.floorAlarm.raise(req.lock, data)) {
      this.log?.warn({ lock: req.lock, passId: c.id }, 'a pass claimed a time beyond what the gateway knows');
    }
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
