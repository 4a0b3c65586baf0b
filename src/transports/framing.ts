import { ErrorCode, PortierError } from '../core/errors.js';
import type { SerialFraming } from '../core/links.js';

/** Where a framer sends what it finds. */
export interface FramerSink {
  frame(frame: Buffer): void;
  /** A line longer than the limit was dropped; `length` is its byte count without the delimiter. */
  overflow(length: number): void;
}

/**
 * Turns a byte stream into frames. Pure (no I/O, no timers), so it is tested with byte strings; the serial link
 * feeds it chunks as they arrive and calls `reset()` when the port closes.
 */
export interface Framer {
  push(chunk: Buffer): void;
  /** Forget any partial frame (the port closed); an overflowing line is reported with the length seen so far. */
  reset(): void;
}

/** Build the framer for a serial link's `framing` option; bad settings are a ConfigInvalid error. */
export function createFramer(framing: SerialFraming, sink: FramerSink): Framer {
  switch (framing.kind) {
    case 'line':
      return new LineFramer(framing.delimiter ?? '\n', framing.maxLength, sink);
    case 'fixed':
      return new FixedFramer(framing.length, sink);
    case 'raw':
      return { push: (chunk) => sink.frame(chunk), reset: () => {} };
    default: {
      const never: never = framing;
      throw new PortierError(ErrorCode.ConfigInvalid, `unknown serial framing ${JSON.stringify(never)}`);
    }
  }
}

const CR = 0x0d;

/**
 * Lines ended by a delimiter (one or more bytes). A trailing "\r" is stripped, so CRLF devices work with the
 * default "\n". A line longer than `maxLength` (after stripping) is dropped whole and reported once, when its
 * delimiter arrives; framing then resumes with the next line. Memory stays bounded by about maxLength plus one
 * chunk however long the line: while dropping, only the last delimiter-length-minus-one bytes are kept, in case a
 * delimiter straddles two chunks.
 */
export class LineFramer implements Framer {
  private readonly delim: Buffer;
  private pending: Buffer = Buffer.alloc(0);
  private dropping = false;
  /** Bytes of the overflowing line already discarded (not counting those still in `pending`). */
  private dropped = 0;

  constructor(
    delimiter: string,
    private readonly maxLength: number,
    private readonly sink: FramerSink,
  ) {
    this.delim = Buffer.from(delimiter, 'utf8');
    if (this.delim.length === 0) throw new PortierError(ErrorCode.ConfigInvalid, 'line delimiter must not be empty');
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new PortierError(ErrorCode.ConfigInvalid, `line maxLength must be an integer >= 1, got ${maxLength}`);
    }
  }

  /** Bytes held for the current unfinished line (bounded by about maxLength + delimiter length). */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    // Only the tail of the previous bytes can hold the start of a delimiter, so search from there.
    let from = Math.max(0, this.pending.length - this.delim.length + 1);
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const at = data.indexOf(this.delim, from);
      if (at < 0) break;
      this.endLine(data.subarray(0, at));
      data = data.subarray(at + this.delim.length);
      from = 0;
    }
    this.keep(data);
  }

  reset(): void {
    if (this.dropping) this.sink.overflow(this.dropped + this.pending.length);
    this.dropping = false;
    this.dropped = 0;
    this.pending = Buffer.alloc(0);
  }

  private endLine(raw: Buffer): void {
    if (this.dropping) {
      this.sink.overflow(this.dropped + raw.length);
      this.dropping = false;
      this.dropped = 0;
      return;
    }
    const line = raw.length > 0 && raw[raw.length - 1] === CR ? raw.subarray(0, raw.length - 1) : raw;
    if (line.length > this.maxLength) {
      this.sink.overflow(raw.length);
      return;
    }
    // Copy: `line` may be a view into a buffer we keep slicing, and the listener may hold on to it.
    this.sink.frame(Buffer.from(line));
  }

  /** Hold the unterminated rest, or start (or continue) dropping once it can no longer be a valid line. */
  private keep(rest: Buffer): void {
    // A valid line is at most maxLength bytes, plus a "\r", plus a partial delimiter not yet completed.
    const limit = this.maxLength + 1 + this.delim.length - 1;
    if (!this.dropping && rest.length <= limit) {
      this.pending = Buffer.from(rest);
      return;
    }
    this.dropping = true;
    const tail = this.delim.length - 1;
    const discard = Math.max(0, rest.length - tail);
    this.dropped += discard;
    this.pending = Buffer.from(rest.subarray(discard));
  }
}

/** Frames of exactly `length` bytes, as binary protocols with fixed records send them. */
export class FixedFramer implements Framer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly length: number,
    private readonly sink: FramerSink,
  ) {
    if (!Number.isInteger(length) || length < 1) {
      throw new PortierError(ErrorCode.ConfigInvalid, `fixed frame length must be an integer >= 1, got ${length}`);
    }
  }

  push(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (data.length >= this.length) {
      this.sink.frame(Buffer.from(data.subarray(0, this.length)));
      data = data.subarray(this.length);
    }
    this.pending = Buffer.from(data);
  }

  reset(): void {
    this.pending = Buffer.alloc(0);
  }
}
