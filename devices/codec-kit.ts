/**
 * The small shared kit every pure codec is built from: the codec contract, the decode error with its stable
 * reason codes, and bounded input readers. No I/O and no timers here or in any codec.
 *
 * It lives at the top of devices/, shared by the parking and weather codecs, and apart from `devices/codecs.ts`
 * (the catalogue), which imports every codec and must not be imported back by them (an ESM cycle would leave the
 * catalogue half-built when a driver loads one codec first).
 */
import { ErrorCode, PortierError } from '../src/core/errors.js';

/** Event types a codec can produce (a subset of DESIGN.md's event types). */
export type DecodedType = 'parking.occupancy' | 'weather.reading';

/** One normalized event, before the event log numbers and stamps it. */
export interface DecodedEvent {
  type: DecodedType;
  /** DESIGN.md "Events" payload: SI units, fields absent when the device does not report them. */
  data: Record<string, unknown>;
}

/** Per-input options a driver (or `portier decode`) passes; unknown keys are ignored by codecs that do not use them. */
export interface DecodeOptions {
  /** LoRaWAN FPort, 1-223. Required by LoRaWAN codecs, refused by codecs that are not LoRaWAN. */
  fport?: number;
  /** m, 0.05-10: distance at or below which a distance sensor reports its bay occupied. */
  threshold_m?: number;
  /** Davis rain collector: `0.01in` (default), `0.2mm` or `0.1mm`. */
  rain_collector?: string;
  /** For envelope codecs (`chirpstack`): the name of the device codec that decodes the payload. */
  device_codec?: string;
  [key: string]: unknown;
}

/** How `portier decode` should read the INPUT argument. */
export type CodecInputKind = 'hex' | 'json' | 'text' | 'form';

export interface Codec {
  /** Stable name used in config files and by `portier decode`. */
  name: string;
  kind: 'parking' | 'weather' | 'envelope';
  input: CodecInputKind;
  /** One line for `--help` and docs. */
  description: string;
  /** LoRaWAN FPorts this codec understands; absent for codecs that are not LoRaWAN. */
  ports?: readonly number[];
  /** Pure: bytes or text in, one event out, or a thrown {@link PortierError} with `context.reason`. */
  decode(input: Buffer | string, opts?: DecodeOptions): DecodedEvent;
}

/**
 * Stable reason codes carried in `PortierError.context.reason` (counted per device by the driver):
 * - `truncated`: shorter than the format needs; `oversized`: longer than the format allows.
 * - `wrong_port`: an FPort the device does not use, a missing FPort for a LoRaWAN codec, or an FPort given to a
 *   codec that is not LoRaWAN.
 * - `garbage`: not the format at all (bad hex, bad JSON, no header, unknown message type byte).
 * - `bad_crc`: checksum mismatch (ErrorCode.DeviceChecksum).
 * - `out_of_range`: well formed, but a value the device cannot produce.
 * - `not_weather`: a valid line or status that is not from a weather sensor (rtl_433 TPMS, a Shelly relay);
 *   `unknown_model`: a weather line from another station than the one configured (a neighbour on the band).
 * - `ignored`: a valid message that carries no occupancy or weather (debug, configuration feedback).
 * - `unknown_codec`, `bad_envelope`: for envelope codecs (ChirpStack, The Things Stack).
 */
export type DecodeReason =
  | 'truncated'
  | 'oversized'
  | 'wrong_port'
  | 'garbage'
  | 'bad_crc'
  | 'out_of_range'
  | 'not_weather'
  | 'unknown_model'
  | 'ignored'
  | 'unknown_codec'
  | 'bad_envelope'
  | 'bad_option';

/** Reasons that describe expected traffic rather than a fault: a driver may skip them without alarm. */
export const BENIGN_REASONS: ReadonlySet<string> = new Set(['ignored', 'not_weather', 'unknown_model']);

/** Build the decode error: DeviceChecksum for `bad_crc`, DeviceConfigInvalid for options, else DeviceDecodeFailed. */
export function decodeError(
  codec: string,
  reason: DecodeReason,
  message: string,
  detail: Record<string, unknown> = {},
): PortierError {
  const code =
    reason === 'bad_crc'
      ? ErrorCode.DeviceChecksum
      : reason === 'bad_option'
        ? ErrorCode.DeviceConfigInvalid
        : ErrorCode.DeviceDecodeFailed;
  return new PortierError(code, `${codec}: ${message}`, { codec, reason, ...detail });
}

/** The reason code of a codec error, or undefined for anything else. */
export function reasonOfDecode(err: unknown): string | undefined {
  if (!(err instanceof PortierError)) return undefined;
  const r = err.context.reason;
  return typeof r === 'string' ? r : undefined;
}

/** True for a codec error whose reason is benign (see {@link BENIGN_REASONS}). */
export function isBenignDecode(err: unknown): boolean {
  const r = reasonOfDecode(err);
  return r !== undefined && BENIGN_REASONS.has(r);
}

const HEX = /^[0-9a-fA-F]*$/;

/**
 * Bytes from a Buffer, or from hex text (spaces, colons and a leading 0x allowed). Checks the size bounds of the
 * format: fewer than `min` bytes is `truncated`, more than `max` is `oversized`, text that is not hex is `garbage`.
 */
export function readBytes(codec: string, input: Buffer | string, min: number, max: number): Buffer {
  let bytes: Buffer;
  if (typeof input === 'string') {
    // Bound the text before touching it: 3 chars per byte covers any separator style.
    if (input.length > max * 3 + 4) throw decodeError(codec, 'oversized', `input longer than ${max} bytes`);
    const hex = input.trim().replace(/^0x/i, '').replace(/[\s:]/g, '');
    if (!HEX.test(hex) || hex.length % 2 !== 0) throw decodeError(codec, 'garbage', 'input is not hex bytes');
    bytes = Buffer.from(hex, 'hex');
  } else {
    bytes = input;
  }
  if (bytes.length < min) {
    throw decodeError(codec, 'truncated', `${bytes.length} byte(s), needs at least ${min}`, { length: bytes.length });
  }
  if (bytes.length > max) {
    throw decodeError(codec, 'oversized', `${bytes.length} bytes, at most ${max}`, { length: bytes.length });
  }
  return bytes;
}

/** Text from a string or a UTF-8 Buffer, at most `max` characters (`oversized`), not empty (`truncated`). */
export function readText(codec: string, input: Buffer | string, max: number): string {
  if (input.length > max * 4) throw decodeError(codec, 'oversized', `input longer than ${max} characters`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.length > max) {
    throw decodeError(codec, 'oversized', `${text.length} characters, at most ${max}`, { length: text.length });
  }
  if (text.trim().length === 0) throw decodeError(codec, 'truncated', 'empty input');
  return text;
}

/** Parse JSON text into a plain object, or throw `garbage`/`truncated`. */
export function readJsonObject(codec: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // A JSON object cut short is the usual failure on a noisy line: name it truncated, not garbage.
    const t = text.trim();
    const reason = t.startsWith('{') && !t.endsWith('}') ? 'truncated' : 'garbage';
    throw decodeError(codec, reason, reason === 'truncated' ? 'JSON object cut short' : 'not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw decodeError(codec, 'garbage', 'not a JSON object');
  }
  return value as Record<string, unknown>;
}

/** The FPort for a LoRaWAN codec: required, and one of `ports`; a single-port codec defaults to its port. */
export function requirePort(codec: string, ports: readonly number[], opts?: DecodeOptions): number {
  const fport = opts?.fport ?? (ports.length === 1 ? ports[0] : undefined);
  if (fport === undefined) throw decodeError(codec, 'wrong_port', `needs an FPort (one of ${ports.join(', ')})`);
  if (!ports.includes(fport)) {
    throw decodeError(codec, 'wrong_port', `FPort ${fport} is not used by this device`, { fport });
  }
  return fport;
}

/** A codec that is not LoRaWAN refuses an FPort: it means the device was configured with the wrong codec. */
export function refusePort(codec: string, opts?: DecodeOptions): void {
  if (opts?.fport !== undefined) {
    throw decodeError(codec, 'wrong_port', 'not a LoRaWAN codec; no FPort applies', { fport: opts.fport });
  }
}

/** Round to `dp` decimals, so conversions do not leak float noise (0.30000000000000004) into events. */
export function round(value: number, dp: number): number {
  const f = 10 ** dp;
  return Math.round(value * f) / f;
}

/** Drop undefined fields: DESIGN.md wants a field absent, never null or a sentinel, when not reported. */
export function compact(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (v !== undefined) out[k] = v;
  return out;
}
