/**
 * How many batches may await their PUBACK at once, adapted to the acknowledgement latency (a delay-based scheme in
 * the spirit of TCP Vegas): while acknowledgements come back near the best latency seen recently, the broker and
 * the link keep up, so the window opens by one per acknowledgement; when latency climbs well above that baseline,
 * batches are queueing somewhere, so the window halves. A lost acknowledgement (timeout, dropped connection)
 * closes it to one. The drain rate thereby follows what the broker can take, whether it sits on the same LAN or
 * behind a congested 4G link.
 */
export class AdaptiveWindow {
  private current: number;
  private baselineMs = Number.POSITIVE_INFINITY;
  private baselineAt = 0;
  /** Smoothed acknowledgement latency, ms. */
  private smoothedMs = 0;
  /** The broker's Receive Maximum, when it announced one. */
  private limit: number | undefined;

  constructor(
    /** batches, 1-256 */
    private readonly max: number,
    /** batches to start with, 1-max */
    private readonly initial = Math.min(2, max),
    /** ms after which the baseline is re-learned, so a path that got slower for good is not punished forever */
    private readonly baselineTtlMs = 30_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.current = Math.max(1, Math.min(initial, max));
  }

  /** Batches allowed in flight now. */
  get size(): number {
    return this.current;
  }

  /** The lowest recent acknowledgement latency (ms), or undefined before the first. */
  get baseline(): number | undefined {
    return Number.isFinite(this.baselineMs) ? this.baselineMs : undefined;
  }

  get smoothedLatencyMs(): number {
    return this.smoothedMs;
  }

  /** The broker may allow fewer unacknowledged publishes than our maximum (MQTT 5 Receive Maximum). */
  capTo(limit: number | undefined): void {
    if (limit !== undefined && limit >= 1 && this.current > limit) this.current = limit;
    this.limit = limit;
  }

  /** One batch acknowledged after `latencyMs`. */
  acked(latencyMs: number): void {
    const t = this.now();
    if (latencyMs <= this.baselineMs || t - this.baselineAt > this.baselineTtlMs) {
      this.baselineMs = latencyMs;
      this.baselineAt = t;
    }
    this.smoothedMs = this.smoothedMs === 0 ? latencyMs : this.smoothedMs * 0.8 + latencyMs * 0.2;
    const ceiling = Math.min(this.max, this.limit ?? this.max);
    // The slack terms keep a fast loopback broker (sub-millisecond baseline) from halving on scheduler noise.
    if (latencyMs <= this.baselineMs * 2 + 20) {
      this.current = Math.min(ceiling, this.current + 1);
    } else if (latencyMs > this.baselineMs * 4 + 200) {
      this.current = Math.max(1, Math.ceil(this.current / 2));
    }
  }

  /** An acknowledgement that never came: start again carefully. */
  lost(): void {
    this.current = 1;
  }

  /** A fresh connection: start from the initial window, keep what was learned about latency. */
  reset(): void {
    this.current = Math.max(1, Math.min(this.initial, this.max, this.limit ?? this.max));
  }
}
