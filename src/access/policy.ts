import type { TimeQuality } from '../core/events.js';
import type { PassClaims } from './claims.js';
import type { DenyReason } from './reasons.js';
import { inWindows, type ZoneClock } from './windows.js';

/** What a door does when the gateway does not know the time: `deny` (default) or `allow` on the wall clock. */
export type TimeUnknownPolicy = 'deny' | 'allow';

/** Seconds of clock difference tolerated at `nbf` and `exp` (issuer and gateway clocks are not one clock). */
export const DEFAULT_LEEWAY_S = 60;

export interface PolicyContext {
  /** The lock the pass was presented at; undefined skips the audience check (CLI verify without --lock). */
  lock?: string;
  /** The lock's groups from its config, matched by `group:NAME` audiences. */
  lockGroups?: readonly string[];
  /** Now, ms, never below the time floor. */
  nowMs: number;
  tq: TimeQuality;
  timeUnknownPolicy?: TimeUnknownPolicy;
  zone: ZoneClock;
  leewayS?: number;
  /** Whether the pass or its subject is on the revocation list. */
  isRevoked?: (claims: PassClaims) => boolean;
}

/** True when any audience entry names this lock or one of its groups. */
export function audienceMatches(aud: readonly string[], lock: string, groups: readonly string[] = []): boolean {
  return aud.some((a) => a === lock || (a.startsWith('group:') && groups.includes(a.slice(6))));
}

/**
 * The policy steps after the signature, in DESIGN.md order: audience, validity window, time quality, revocation,
 * schedule. Uses and replay come last and need the store (the service does them in the commit transaction).
 *
 * With time quality `unknown` (no NTP, no RTC, no floor yet) the validity window cannot be judged: a door with the
 * default `deny` rule answers `time_unknown` rather than a misleading `expired`; with `allow` the wall clock is
 * taken as it is. Time quality `floor` is a proven lower bound on the time, good enough to say "expired".
 */
export function checkPolicy(claims: PassClaims, ctx: PolicyContext): DenyReason | undefined {
  if (ctx.lock !== undefined && !audienceMatches(claims.aud, ctx.lock, ctx.lockGroups)) return 'wrong_lock';
  const timeKnown = ctx.tq !== 'unknown' || ctx.timeUnknownPolicy === 'allow';
  if (timeKnown) {
    const leewayMs = (ctx.leewayS ?? DEFAULT_LEEWAY_S) * 1000;
    if (claims.nbf !== undefined && ctx.nowMs + leewayMs < claims.nbf * 1000) return 'not_yet_valid';
    if (ctx.nowMs - leewayMs >= claims.exp * 1000) return 'expired';
  } else {
    return 'time_unknown';
  }
  if (ctx.isRevoked?.(claims)) return 'revoked';
  if (claims.win && !inWindows(claims.win, ctx.zone.local(ctx.nowMs))) return 'outside_window';
  return undefined;
}
