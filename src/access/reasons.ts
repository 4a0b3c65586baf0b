/**
 * Reason codes of access decisions (DESIGN.md, Access passes). A pass is checked in the order of
 * `PASS_REASONS`; the first failing step names the reason. PIN and card credentials add a few codes of their own.
 */

/** Pass verification steps, in the order they are checked (DESIGN.md contract). */
export const PASS_REASONS = [
  'malformed',
  'unknown_key',
  'alg_not_allowed',
  'bad_signature',
  'not_a_pass',
  'wrong_lock',
  'not_yet_valid',
  'expired',
  'time_unknown',
  'revoked',
  'outside_window',
  'uses_exhausted',
] as const;

/** Keypad and card reasons: a wrong code, a keypad locked out after repeated wrong codes, an unlisted card. */
export const OTHER_REASONS = ['wrong_code', 'locked_out', 'unknown_card'] as const;

export type PassReason = (typeof PASS_REASONS)[number];
export type DenyReason = PassReason | (typeof OTHER_REASONS)[number];
/** `ok` when granted, else why not. */
export type ReasonCode = 'ok' | DenyReason;

export const ALL_REASONS: readonly ReasonCode[] = ['ok', ...PASS_REASONS, ...OTHER_REASONS];
