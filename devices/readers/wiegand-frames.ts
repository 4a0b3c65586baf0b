import type { Bit } from './wiegand-codec.js';

/** Frames longer than this are noise on the wires (the longest common format is 37 bits; some readers send 64). */
export const WIEGAND_MAX_BITS = 64;

export type AssembledFrame = { bits: Bit[] } | { overflow: number };

/**
 * Turns Wiegand pulses into frames by time. A reader pulses D0 low for a 0 and D1 low for a 1, a pulse every ~2 ms,
 * and falls silent after the last bit; a frame ends after `gapMs` of silence. Pure: the caller supplies the time of
 * each pulse (ms, monotonic) and asks for the frame when its timer fires, so bit timings can be tested exactly.
 *
 * Only `flush` ends a frame, never the arrival of a late pulse: a pulse is timed when the event loop delivers it,
 * so after the process stalled a pulse can look late although it followed the previous one closely. The driver
 * flushes after the event loop has taken in every pulse that is waiting (see devices/readers/wiegand.ts).
 */
export class WiegandFrameAssembler {
  private bits: Bit[] = [];
  private count = 0;
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    /** ms of silence that ends a frame, > 0 (25 on real wires) */
    readonly gapMs: number,
    /** bits kept at most; a longer burst is reported as an overflow */
    readonly maxBits = WIEGAND_MAX_BITS,
  ) {}

  /** A pulse on D0 (`bit` 0) or D1 (`bit` 1) at `atMs`. */
  pulse(bit: Bit, atMs: number): void {
    this.last = atMs;
    this.count++;
    if (this.bits.length < this.maxBits) this.bits.push(bit);
  }

  /** The frame, if `atMs` is `gapMs` or more after its last pulse; else nothing (keep waiting). */
  flush(atMs: number): AssembledFrame | undefined {
    if (this.count === 0 || atMs - this.last < this.gapMs) return undefined;
    return this.take();
  }

  /** ms from `atMs` until the pending frame may end; undefined when nothing is pending. */
  dueIn(atMs: number): number | undefined {
    if (this.count === 0) return undefined;
    return Math.max(0, this.last + this.gapMs - atMs);
  }

  /** Drop what has arrived (the driver stopped). */
  reset(): void {
    this.bits = [];
    this.count = 0;
  }

  private take(): AssembledFrame | undefined {
    if (this.count === 0) return undefined;
    const frame: AssembledFrame = this.count > this.maxBits ? { overflow: this.count } : { bits: this.bits };
    this.reset();
    return frame;
  }
}
