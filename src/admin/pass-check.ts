import type { TimeUnknownPolicy as TimePolicy } from '../access/policy.js';
import type { ReasonCode } from '../access/reasons.js';
import type { AccessService, DecisionRequest } from '../access/service.js';

export interface CheckRequest {
  lock: string;
  pass?: string;
  pin?: string;
  /** The lock's groups (its `groups` setting), for `group:NAME` audiences. */
  lockGroups?: readonly string[];
  /** The lock's `time_unknown` setting; default deny. */
  timeUnknown?: TimePolicy;
  /** The lock's `pin_length` setting (8-10); default 8. */
  pinLength?: number;
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
 * What the door would decide for a credential right now, without deciding: AccessService.preview, the same steps
 * as the door's decision (verification, policy with the same leeway, the stored use count, revocations, PIN state),
 * read-only. Nothing is recorded, no use counted, no keypad failure, no time floor raised.
 */
export class PassChecker {
  constructor(private readonly access: AccessService) {}

  check(req: CheckRequest): CheckResult {
    const kind = req.pin !== undefined ? 'pin' : 'pass';
    const request: DecisionRequest = {
      lock: req.lock,
      lockGroups: req.lockGroups ?? [],
      credential: { kind, value: (kind === 'pin' ? req.pin : req.pass) ?? '' },
      timeUnknownPolicy: req.timeUnknown ?? 'deny',
    };
    if (req.pinLength !== undefined) request.pinLength = req.pinLength;
    const p = this.access.preview(request);
    const out: CheckResult = { lock: p.lock, credential: kind, granted: p.granted, reason: p.reason, dry_run: true };
    if (p.passId !== undefined) out.pass_id = p.passId;
    const x = p.extra;
    if (typeof x.format === 'string') out.format = x.format;
    if (typeof x.kid === 'string') out.kid = x.kid;
    if (p.exp !== undefined) out.exp = new Date(p.exp * 1000).toISOString();
    if (typeof x.uses_left === 'number') out.uses_left = x.uses_left;
    if (typeof x.detail === 'string') out.detail = x.detail;
    else if (typeof x.locked_ms === 'number') out.detail = `keypad locked for ${Math.ceil(x.locked_ms / 1000)} s`;
    return out;
  }
}
