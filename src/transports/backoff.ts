import { ErrorCode, PortierError } from '../core/errors.js';
import type { BackoffSettings } from '../core/links.js';

/** Serial devices come back when a cable is replugged; a 2 s cap brings the link up within ~2 s of that. */
export const SERIAL_BACKOFF: Required<BackoffSettings> = { initialMs: 250, maxMs: 2000 };
/** Brokers and servers restart more slowly and are shared; a 10 s cap spares them a thundering herd. */
export const NETWORK_BACKOFF: Required<BackoffSettings> = { initialMs: 250, maxMs: 10_000 };

/**
 * Delays between reconnect attempts: exponential (initialMs · 2^attempt, capped at maxMs) with full jitter
 * (a uniform draw in [0, delay], the AWS "full jitter" scheme), so gateways that lost the same broker do not
 * return in step.
 *
 * The one backoff of the project: the links' reconnects and the cloud connection's. A loop of its own rather than
 * a library's `backOff()`, which sleeps on a timer it never exposes (a link could not cancel a pending wait when it
 * is stopped). `random` is injectable so a test can pin the draws.
 */
export class Backoff {
  private attempt = 0;
  readonly initialMs: number;
  readonly maxMs: number;

  constructor(
    settings: BackoffSettings | undefined,
    defaults: Required<BackoffSettings>,
    private readonly random: () => number = Math.random,
  ) {
    // One side given alone moves the other's default out of its way rather than making a contradiction.
    this.initialMs = settings?.initialMs ?? Math.min(defaults.initialMs, settings?.maxMs ?? Number.POSITIVE_INFINITY);
    this.maxMs = settings?.maxMs ?? Math.max(defaults.maxMs, this.initialMs);
    if (!Number.isFinite(this.initialMs) || this.initialMs < 1) {
      throw new PortierError(ErrorCode.ConfigInvalid, `backoff initialMs must be >= 1, got ${this.initialMs}`);
    }
    if (!Number.isFinite(this.maxMs) || this.maxMs < this.initialMs) {
      throw new PortierError(ErrorCode.ConfigInvalid, `backoff maxMs must be >= initialMs, got ${this.maxMs}`);
    }
  }

  /** The ceiling of the next draw (ms), before jitter. */
  ceiling(): number {
    // 2^attempt overflows to Infinity long after it passes any sane cap; Math.min keeps it finite.
    return Math.min(this.initialMs * 2 ** this.attempt, this.maxMs);
  }

  /** ms to wait before the next attempt, in [0, ceiling()); each call moves one step up the curve. */
  next(): number {
    const delay = Math.floor(this.random() * this.ceiling());
    if (this.ceiling() < this.maxMs) this.attempt += 1;
    return delay;
  }

  /** Back to the first step, after a connection that held. */
  reset(): void {
    this.attempt = 0;
  }
}
