import { LANES_BY_CODE } from '../store/event-log.js';
import type { LaneBacklog, LaneRange, Outbox } from '../store/outbox.js';

/** Bounds of one published batch. */
export interface BatchLimits {
  /** events per batch, 1-1000 */
  maxEvents: number;
  /** UTF-8 bytes of the whole JSON document, at least 1 KiB */
  maxBytes: number;
}

/** One batch ready to publish: a single JSON document `{"v":1,"gw":…,"events":[…]}`. */
export interface Batch {
  payload: string;
  /** events in the batch */
  count: number;
  /** UTF-8 bytes of `payload` */
  bytes: number;
  /** What to delete once the broker acknowledges it. */
  ranges: LaneRange[];
  /** Events and body bytes per lane code, for the outbox's counts. */
  perLane: LaneBacklog[];
  /** True when the limits, not the backlog, ended the batch (more is waiting). */
  full: boolean;
  /** True when it carries critical events (these are not held back for companions). */
  critical: boolean;
  /** Each event's ISO 8601 time, for the delivery-age histogram. */
  eventTs: string[];
}

const DOC_TAIL = ']}';

/** The fixed head of every batch document of a gateway. */
export function batchHead(gw: string): string {
  return `{"v":1,"gw":${JSON.stringify(gw)},"events":[`;
}

/**
 * Take the next batch in drain order: critical first, then state, then telemetry, oldest first within each lane,
 * starting after each lane's cursor (the last seq already in flight). The stored event JSON is spliced into the
 * document as is, so a batch costs no parse and no re-serialization. Advances `cursors` past what it took.
 * Returns undefined when nothing is waiting.
 *
 * An event larger than `maxBytes` on its own still goes out, alone: refusing it would wedge its lane forever.
 */
export function takeBatch(outbox: Outbox, cursors: number[], limits: BatchLimits, head: string): Batch | undefined {
  const parts: string[] = [];
  const eventTs: string[] = [];
  const ranges: LaneRange[] = [];
  const perLane: LaneBacklog[] = LANES_BY_CODE.map(() => ({ count: 0, bytes: 0 }));
  let bytes = Buffer.byteLength(head) + DOC_TAIL.length;
  let full = false;
  for (let lane = 0; lane < LANES_BY_CODE.length && !full; lane++) {
    const room = limits.maxEvents - parts.length;
    if (room <= 0) {
      full = true;
      break;
    }
    const rows = outbox.take(lane, cursors[lane] ?? 0, room);
    let first = -1;
    let last = -1;
    for (const row of rows) {
      const size = Buffer.byteLength(row.body) + (parts.length > 0 ? 1 : 0);
      if (parts.length > 0 && bytes + size > limits.maxBytes) {
        full = true;
        break;
      }
      parts.push(row.body);
      eventTs.push(row.ts);
      bytes += size;
      perLane[lane]!.count++;
      perLane[lane]!.bytes += size - (parts.length > 1 ? 1 : 0);
      if (first < 0) first = row.seq;
      last = row.seq;
    }
    if (rows.length === room && !full) full = parts.length >= limits.maxEvents;
    if (first >= 0) {
      ranges.push({ lane, first, last });
      cursors[lane] = last;
    }
  }
  if (parts.length === 0) return undefined;
  return {
    payload: `${head}${parts.join(',')}${DOC_TAIL}`,
    count: parts.length,
    bytes,
    ranges,
    perLane,
    full,
    critical: perLane[0]!.count > 0,
    eventTs,
  };
}
