/**
 * The LCUS-type USB relay board's serial protocol (CH340 at 9600 8N1; write-only, the board never answers): four
 * bytes, start 0xA0, the channel (1-8), 0x01 on or 0x00 off, and the sum of the first three bytes modulo 256.
 * `A0 01 01 A2` switches channel 1 on, `A0 01 00 A1` off (the vendors' listings of LCUS-1 boards).
 */

export const LCUS_START = 0xa0;

export interface LcusCommand {
  /** 1-8 */
  channel: number;
  on: boolean;
}

export function encodeLcus(cmd: LcusCommand): Buffer {
  if (!Number.isInteger(cmd.channel) || cmd.channel < 1 || cmd.channel > 8) {
    throw new RangeError(`LCUS channel ${cmd.channel} is not 1-8`);
  }
  const state = cmd.on ? 1 : 0;
  return Buffer.from([LCUS_START, cmd.channel, state, (LCUS_START + cmd.channel + state) & 0xff]);
}

export type LcusParse =
  | { ok: true; value: LcusCommand }
  | { ok: false; reason: 'bad_start' | 'bad_checksum' | 'bad_value' };

/** Parse one 4-byte frame (the board's side). */
export function decodeLcus(frame: Uint8Array): LcusParse {
  const [start, channel, state, sum] = frame;
  if (frame.length !== 4 || start !== LCUS_START) return { ok: false, reason: 'bad_start' };
  if (((start + channel! + state!) & 0xff) !== sum) return { ok: false, reason: 'bad_checksum' };
  if (channel! < 1 || channel! > 8 || state! > 1) return { ok: false, reason: 'bad_value' };
  return { ok: true, value: { channel: channel!, on: state === 1 } };
}

/**
 * Splits a byte stream into 4-byte frames that start with 0xA0, skipping bytes until a start byte (line noise,
 * a host that began mid-frame), as the board's firmware does.
 */
export class LcusFramer {
  private buf: number[] = [];

  push(chunk: Uint8Array, onFrame: (frame: Buffer) => void): void {
    for (const byte of chunk) {
      if (this.buf.length === 0 && byte !== LCUS_START) continue;
      this.buf.push(byte);
      if (this.buf.length === 4) {
        onFrame(Buffer.from(this.buf));
        this.buf = [];
      }
    }
  }
}
