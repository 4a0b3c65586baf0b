/**
 * Reconnect delays with exponential growth and full jitter (a uniform draw in [0, min(cap, base·2^n)], the AWS
 * Architecture Blog's "full jitter"): a town's gateways that lost the same cloud broker come back spread over the
 * whole interval instead of all at once.
 */
export class JitterBackoff {
  private attempt = 0;

  constructor(
    /** ms, ceiling of the first draw, >= 1 */
    private readonly baseMs: number,
    /** ms, cap on the ceiling, >= baseMs */
    private readonly capMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The ceiling of the next draw (ms). */
  ceiling(): number {
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 40));
  }

  /** ms to wait before the next attempt; each call moves one step up the curve. */
  next(): number {
    const delay = Math.floor(this.random() * this.ceiling());
    this.attempt++;
    return delay;
  }

  /** Back to the first step (after a connection that held). */
  reset(): void {
    this.attempt = 0;
  }
}
