import { ErrorCode, PortierError } from '../core/errors.js';
import type { BackoffSettings } from '../core/links.js';

/** Serial devices come back when a cable is replugged; a 2 s cap brings the link up within ~2 s of that. */
export const SERIAL_BACKOFF: Required<Omit<BackoffSettings, 'quickMaxMs'>> = { initialMs: 250, maxMs: 2000 };
/** Brokers and servers restart more slowly and are shared; a 10 s cap spares them a thundering herd. */
export const NETWORK_BACKOFF: Required<Omit<BackoffSettings, 'quickMaxMs'>> = { initialMs: 250, maxMs: 10_000 };

/**
 * Delays between reconnect attempts, the one backoff of every link (serial, local MQTT, HTTP, the cloud):
 * exponential (initialMs · 2^attempt, capped at maxMs) with full jitter (a uniform draw in [0, ceiling), the AWS
 * "full jitter" scheme), so gateways that lost the same broker do not return in step.
 *
 * With `quickMaxMs`, the cap also follows how long the peer has been away: while `next(awayMs)` is told a short
 * absence the ceiling stays at `quickMaxMs`, and it grows only to a tenth of the absence (up to `maxMs`). A cloud
 * broker node that restarts or fails over is back within seconds, and waiting up to a full minute for it (24.5 s
 * was measured) delays every event for nothing; one that has been gone for ten minutes gets the full cap, which
 * spreads a town's gateways when it returns. Either way the time lost after the peer is back stays within about a
 * tenth of its absence, or `quickMaxMs`.
 *
 * The draw is written here rather than taken from `exponential-backoff`: that package's `backOff()` loop sleeps on a
 * timer it never exposes (a link could not cancel a pending wait when stopped), and its jitter calls Math.random
 * itself, so tests could not pin it.
 */
export class Backoff {
  private attempt = 0;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly quickMaxMs: number | undefined;

  constructor(
    settings: BackoffSettings | undefined,
    defaults: Required<Omit<BackoffSettings, 'quickMaxMs'>>,
    /** in [0, 1); Math.random unless a test pins it */
    private readonly random: () => number = Math.random,
  ) {
    // One side given alone moves the other's default out of its way rather than making a contradiction.
    this.initialMs = settings?.initialMs ?? Math.min(defaults.initialMs, settings?.maxMs ?? Number.POSITIVE_INFINITY);
    this.maxMs = settings?.maxMs ?? Math.max(defaults.maxMs, this.initialMs);
    this.quickMaxMs = settings?.quickMaxMs;
    if (!Number.isFinite(this.initialMs) || this.initialMs < 1) {
      throw new PortierError(ErrorCode.ConfigInvalid, `backoff initialMs must be >= 1, got ${this.initialMs}`);
    }
    if (!Number.isFinite(this.maxMs) || this.maxMs < this.initialMs) {
      throw new PortierError(ErrorCode.ConfigInvalid, `backoff maxMs must be >= initialMs, got ${this.maxMs}`);
    }
    if (this.quickMaxMs !== undefined && !(this.quickMaxMs >= 1)) {
      throw new PortierError(ErrorCode.ConfigInvalid, `backoff quickMaxMs must be >= 1, got ${this.quickMaxMs}`);
    }
  }

  /** The ceiling of the next draw (ms), before jitter, for a peer away for `awayMs`. */
  ceiling(awayMs = Number.POSITIVE_INFINITY): number {
    // 2^attempt overflows to Infinity long after it passes any sane cap; Math.min keeps it finite.
    return Math.min(this.initialMs * 2 ** this.attempt, this.capFor(awayMs));
  }

  /** ms to wait before the next attempt, in [0, ceiling(awayMs)); each call moves one step up the curve. */
  next(awayMs = Number.POSITIVE_INFINITY): number {
    const ceiling = this.ceiling(awayMs);
    if (this.initialMs * 2 ** this.attempt < this.maxMs) this.attempt += 1;
    return Math.floor(this.random() * ceiling);
  }

  /** Back to the first step, after a connection that held. */
  reset(): void {
    this.attempt = 0;
  }

  private capFor(awayMs: number): number {
    if (this.quickMaxMs === undefined) return this.maxMs;
    return Math.min(this.maxMs, Math.max(this.quickMaxMs, awayMs / 10));
  }
}
