import type { Now } from '../core/clock.js';
import type { RevocationStore } from '../store/access-store.js';
import type { CardStore } from '../store/card-store.js';
import { GUESS_BUDGETS, type PinStore } from '../store/pin-store.js';
import { DEFAULT_DIGITS, matchPin, type PinSlot } from './pin.js';
import type { TimeUnknownPolicy } from './policy.js';
import { audienceMatches } from './policy.js';
import type { ReasonCode } from './reasons.js';

/** What the access service has decided before its commit: the reason so far, and the work for the commit. */
export interface Draft {
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

/** What the PIN and card steps read of a decision request (AccessService's DecisionRequest). */
export interface CredentialRequest {
  lock: string;
  lockGroups?: readonly string[];
  timeUnknownPolicy?: TimeUnknownPolicy;
  /** Digits a PIN must have at this lock, 8-10, default 8. */
  pinLength?: number;
}

/** The stores the PIN and card steps read. */
export interface CredentialStores {
  pins: PinStore;
  cards: CardStore;
  revocations: RevocationStore;
}

/**
 * A keypad code. The lock takes exactly its `pin_length` digits: any other entry is `malformed` and costs no guess
 * (it cannot match). A wrong code of the right length costs one guess from the keypad's budget (GUESS_BUDGETS), in
 * the commit transaction; with the budget spent every code is `locked_out`, unchecked, until the next guess is due.
 */
export function draftPin(s: CredentialStores, req: CredentialRequest, code: string, now: Now): Draft {
  const lock = req.lock;
  const digits = req.pinLength ?? DEFAULT_DIGITS;
  const budget = GUESS_BUDGETS[digits];
  if (!budget) return { reason: 'malformed', extra: { detail: `pin_length ${digits} is not 8-10` } };
  if (now.tq === 'unknown' && req.timeUnknownPolicy !== 'allow') return { reason: 'time_unknown' };
  const lockedMs = s.pins.lockedFor(lock, now.ms);
  if (lockedMs > 0) return { reason: 'locked_out', extra: { locked_ms: lockedMs } };
  const secret = s.pins.secret(lock);
  if (!secret) return { reason: 'unknown_key', extra: { detail: 'no PIN secret for this lock' } };
  const trimmed = code.trim();
  if (trimmed.length !== digits || !/^\d+$/.test(trimmed)) {
    return { reason: 'malformed', extra: { detail: `this keypad takes ${digits} digits` } };
  }
  const slot = matchPin(secret, lock, trimmed, Math.floor(now.ms / 1000));
  if (!slot) {
    return {
      reason: 'wrong_code',
      commit: () => {
        const f = s.pins.recordFailure(lock, now.ms, budget);
        return { extra: { failures: f.failures, locked_ms: f.lockedMs } };
      },
    };
  }
  const passId = pinId(lock, slot);
  if (s.revocations.isRevoked(passId, undefined)) return { reason: 'revoked', passId };
  return {
    reason: 'ok',
    passId,
    check: () => (slot.oneTime && s.pins.oneTimeUsed(lock, slot) ? { reason: 'uses_exhausted' } : undefined),
    commit: () => {
      if (slot.oneTime) {
        if (s.pins.oneTimeUsed(lock, slot)) return { reason: 'uses_exhausted' };
        s.pins.markOneTimeUsed(lock, slot);
      }
      s.pins.recordSuccess(lock);
      return undefined;
    },
  };
}

/** A card from the card list, at a lock it names, within its validity. */
export function draftCard(s: CredentialStores, req: CredentialRequest, card: string, now: Now, leewayS: number): Draft {
  const grant = card ? s.cards.get(card) : undefined;
  if (!grant) return { reason: 'unknown_card' };
  const draft: Draft = { reason: 'ok', passId: `card:${grant.card}` };
  if (grant.sub !== undefined) draft.sub = grant.sub;
  const leewayMs = leewayS * 1000;
  if (!audienceMatches(grant.aud, req.lock, req.lockGroups)) draft.reason = 'wrong_lock';
  else if (now.tq === 'unknown' && req.timeUnknownPolicy !== 'allow' && (grant.nbf ?? grant.exp) !== undefined) {
    draft.reason = 'time_unknown';
  } else if (grant.nbf !== undefined && now.ms + leewayMs < grant.nbf * 1000) draft.reason = 'not_yet_valid';
  else if (grant.exp !== undefined && now.ms - leewayMs >= grant.exp * 1000) draft.reason = 'expired';
  else if (s.revocations.isRevoked(draft.passId!, grant.sub)) draft.reason = 'revoked';
  return draft;
}

/** The id a PIN code is known by in decisions and on the revocation list. */
export function pinId(lock: string, slot: PinSlot): string {
  return `pin:${lock}:${slot.slotStart}:${slot.hours}:${slot.oneTime ? 'once' : 'dur'}`;
}
