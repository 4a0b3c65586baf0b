import type { EventInput } from './events.js';

/** ms between two `time_floor_jump_refused` alarms; the ones in between are counted in the next (10 min). */
export const FLOOR_ALARM_EVERY_MS = 600_000;

/**
 * Raises the `time_floor_jump_refused` alarm: a validly signed pass or command claimed an `iat` more than
 * MAX_FLOOR_STEP_MS beyond the best time the gateway knows, and was not allowed to move the time floor. Durable
 * (critical lane). At most one per FLOOR_ALARM_EVERY_MS: a gateway whose floor lags after a long power cut would
 * otherwise raise one per pass; the next alarm says how many were held back (`suppressed`).
 */
export class FloorJumpAlarm {
  private last = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly log: { recordNow(input: EventInput): unknown },
    private readonly mono: () => number = () => performance.now(),
  ) {}

  /** `data` names the source and the pass or command id (never the pass itself); true when recorded. */
  raise(dev: string, data: { source: 'pass' | 'command'; iatMs: number; limitMs: number } & Record<string, unknown>) {
    const now = this.mono();
    if (now - this.last < FLOOR_ALARM_EVERY_MS) {
      this.suppressed++;
      return false;
    }
    const { iatMs, limitMs, ...rest } = data;
    this.log.recordNow({
      dev,
      type: 'alarm',
      data: {
        alarm: 'time_floor_jump_refused',
        ...rest,
        iat: isoOrNumber(iatMs),
        limit: isoOrNumber(limitMs),
        ...(this.suppressed ? { suppressed: this.suppressed } : {}),
      },
    });
    this.last = now;
    this.suppressed = 0;
    return true;
  }
}

/** An ISO time, or the raw ms when the value is beyond what a Date can hold (a hostile iat). */
function isoOrNumber(ms: number): string | number {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? ms : d.toISOString();
}
