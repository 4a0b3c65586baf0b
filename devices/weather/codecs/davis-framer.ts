/**
 * Cut a Davis console's serial byte stream into 99-byte LOOP/LOOP2 packets. The stream also carries the ACK
 * (0x06) that answers a "LOOP n" command, wake-up "\n\r" echoes and line noise; the framer looks for "LOO",
 * takes 99 bytes, and keeps the packet only if its CRC is 0. On a bad CRC it resyncs one byte after the false
 * start, so a "LOO" inside garbage cannot swallow the real packet that follows. Pure: no I/O, no timers.
 */
import { crc16Xmodem } from './davis-crc.js';
import { LOOP_PACKET_BYTES } from './davis-loop.js';

/** What one call to the framer found. */
export interface LoopFrames {
  /** Whole packets with a good CRC, each a copy (safe to keep). */
  packets: Buffer[];
  /** Bytes that were not part of a good packet and were dropped. */
  skipped: number;
  /** Candidate packets ("LOO" + 96 bytes) whose CRC failed. */
  badCrc: number;
  /** Tail to prepend to the next chunk: a partial packet, or a partial "LOO". */
  rest: Buffer;
}

const L = 0x4c;
const O = 0x4f;

/** Frame a buffer; the caller keeps `rest` and passes `Buffer.concat([rest, next])` next time. */
export function frameLoopStream(buf: Buffer): LoopFrames {
  const packets: Buffer[] = [];
  let skipped = 0;
  let badCrc = 0;
  let i = 0;
  for (;;) {
    const at = buf.indexOf('LOO', i, 'latin1');
    if (at < 0) {
      // Keep a trailing "L" or "LO": it may be the start of the next packet.
      let keep = 0;
      if (buf.length - i >= 2 && buf[buf.length - 2] === L && buf[buf.length - 1] === O) keep = 2;
      else if (buf.length - i >= 1 && buf[buf.length - 1] === L) keep = 1;
      skipped += buf.length - i - keep;
      return { packets, skipped, badCrc, rest: Buffer.from(buf.subarray(buf.length - keep)) };
    }
    skipped += at - i;
    if (buf.length - at < LOOP_PACKET_BYTES) {
      return { packets, skipped, badCrc, rest: Buffer.from(buf.subarray(at)) };
    }
    const frame = buf.subarray(at, at + LOOP_PACKET_BYTES);
    if (crc16Xmodem(frame) === 0) {
      packets.push(Buffer.from(frame));
      i = at + LOOP_PACKET_BYTES;
    } else {
      badCrc++;
      skipped += 1;
      i = at + 1;
    }
  }
}

/**
 * The stateful form for a driver: push each chunk as it arrives, get the complete packets back. Holds at most
 * one partial packet (98 bytes) between calls.
 */
export class LoopFramer {
  private rest: Buffer = Buffer.alloc(0);
  /** Totals since construction, for counters. */
  skipped = 0;
  badCrc = 0;

  push(chunk: Buffer): Buffer[] {
    const r = frameLoopStream(this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk);
    this.rest = r.rest;
    this.skipped += r.skipped;
    this.badCrc += r.badCrc;
    return r.packets;
  }

  /** Bytes held back waiting for the rest of a packet. */
  get pending(): number {
    return this.rest.length;
  }
}
