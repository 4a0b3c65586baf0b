/**
 * CoAP messages (RFC 7252 §3) as bytes, both ways: the header (version 1, type, token length, code, message id),
 * the token, options with delta/length nibbles and their 13/14 extensions, and the payload after 0xFF. Enough for
 * the server side the gateway needs (Shelly CoIoT status POSTs, RFC 7641 observe in the stubs); requests from the
 * gateway as a client go through node-coap-client. Pure, bounded: a malformed datagram is a `garbage` or
 * `truncated` PortierError, never an exception from a Buffer read.
 */
import { ErrorCode, PortierError } from '../core/errors.js';

export const CoapType = { CON: 0, NON: 1, ACK: 2, RST: 3 } as const;
export type CoapTypeValue = (typeof CoapType)[keyof typeof CoapType];

/** Option numbers used here (RFC 7252 §5.10, RFC 7641, Shelly CoIoT). */
export const CoapOption = {
  UriHost: 3,
  Observe: 6,
  UriPort: 7,
  UriPath: 11,
  ContentFormat: 12,
  MaxAge: 14,
  UriQuery: 15,
  /** Shelly CoIoT: the device id, `<type>#<mac>#<protocol revision>` */
  CoiotDeviceId: 3332,
  /** Shelly CoIoT: seconds the status stays valid */
  CoiotValidity: 3412,
  /** Shelly CoIoT: serial number that changes with each new status */
  CoiotSerial: 3420,
} as const;

export interface CoapOptionValue {
  number: number;
  value: Buffer;
}

export interface CoapMessage {
  type: CoapTypeValue;
  /** class * 32 + detail, e.g. 0.01 GET = 1, 0.02 POST = 2, 2.05 Content = 69 */
  code: number;
  /** 0-65535 */
  messageId: number;
  /** 0-8 bytes */
  token: Buffer;
  options: CoapOptionValue[];
  payload: Buffer;
}

/** Largest datagram accepted, bytes (RFC 7252 §4.6 suggests 1152 for the message; a Shelly status fits in 1 KiB). */
export const MAX_COAP_DATAGRAM = 4096;

const NAME = 'coap';

/** The same error a codec's `decodeError` makes (devices/codec-kit.ts), without the transports importing a driver. */
function decodeError(codec: string, reason: 'oversized' | 'truncated' | 'garbage', message: string): PortierError {
  return new PortierError(ErrorCode.DeviceDecodeFailed, `${codec}: ${message}`, { codec, reason });
}

/** "2.05" for 69 */
export function codeString(code: number): string {
  return `${code >> 5}.${String(code & 0x1f).padStart(2, '0')}`;
}

/** 69 for "2.05" */
export function codeNumber(text: string): number {
  const [c, d] = text.split('.');
  return (Number(c) << 5) | Number(d);
}

/** Parse one datagram. */
export function decodeCoap(buf: Buffer): CoapMessage {
  if (buf.length > MAX_COAP_DATAGRAM) throw decodeError(NAME, 'oversized', `${buf.length} bytes`);
  if (buf.length < 4) throw decodeError(NAME, 'truncated', `${buf.length} bytes, a CoAP header needs 4`);
  const b0 = buf[0]!;
  if (b0 >> 6 !== 1) throw decodeError(NAME, 'garbage', `CoAP version ${b0 >> 6}`);
  const tkl = b0 & 0x0f;
  if (tkl > 8) throw decodeError(NAME, 'garbage', `token length ${tkl}`);
  if (buf.length < 4 + tkl) throw decodeError(NAME, 'truncated', 'token cut short');
  const msg: CoapMessage = {
    type: ((b0 >> 4) & 0x03) as CoapTypeValue,
    code: buf[1]!,
    messageId: buf.readUInt16BE(2),
    token: Buffer.from(buf.subarray(4, 4 + tkl)),
    options: [],
    payload: Buffer.alloc(0),
  };
  let i = 4 + tkl;
  let number = 0;
  while (i < buf.length) {
    const head = buf[i++]!;
    if (head === 0xff) {
      if (i >= buf.length) throw decodeError(NAME, 'garbage', 'payload marker without payload');
      msg.payload = Buffer.from(buf.subarray(i));
      return msg;
    }
    let delta = head >> 4;
    let length = head & 0x0f;
    [delta, i] = extended(buf, delta, i);
    [length, i] = extended(buf, length, i);
    if (i + length > buf.length) throw decodeError(NAME, 'truncated', 'option value cut short');
    number += delta;
    msg.options.push({ number, value: Buffer.from(buf.subarray(i, i + length)) });
    i += length;
  }
  return msg;
}

function extended(buf: Buffer, nibble: number, i: number): [number, number] {
  if (nibble < 13) return [nibble, i];
  if (nibble === 13) {
    if (i >= buf.length) throw decodeError(NAME, 'truncated', 'option header cut short');
    return [buf[i]! + 13, i + 1];
  }
  if (nibble === 14) {
    if (i + 1 >= buf.length) throw decodeError(NAME, 'truncated', 'option header cut short');
    return [buf.readUInt16BE(i) + 269, i + 2];
  }
  throw decodeError(NAME, 'garbage', 'reserved option nibble 15');
}

function nibble(n: number): [number, Buffer] {
  if (n < 13) return [n, Buffer.alloc(0)];
  if (n < 269) return [13, Buffer.from([n - 13])];
  const ext = Buffer.alloc(2);
  ext.writeUInt16BE(n - 269);
  return [14, ext];
}

/** Serialize a message; options are sorted by number (CoAP requires ascending order). */
export function encodeCoap(msg: CoapMessage): Buffer {
  if (msg.token.length > 8) throw new RangeError('CoAP token longer than 8 bytes');
  const parts: Buffer[] = [];
  const header = Buffer.alloc(4);
  header[0] = (1 << 6) | (msg.type << 4) | msg.token.length;
  header[1] = msg.code;
  header.writeUInt16BE(msg.messageId & 0xffff, 2);
  parts.push(header, msg.token);
  let last = 0;
  for (const opt of [...msg.options].sort((a, b) => a.number - b.number)) {
    const [d, dExt] = nibble(opt.number - last);
    const [l, lExt] = nibble(opt.value.length);
    parts.push(Buffer.from([(d << 4) | l]), dExt, lExt, opt.value);
    last = opt.number;
  }
  if (msg.payload.length > 0) parts.push(Buffer.from([0xff]), msg.payload);
  return Buffer.concat(parts);
}

/** An unsigned integer option value in the fewest bytes (0 is empty), RFC 7252 §3.2. */
export function uintOption(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes);
}

export function readUint(value: Buffer): number {
  let n = 0;
  for (const b of value) n = n * 256 + b;
  return n;
}

/** The Uri-Path of a message as "/a/b". */
export function uriPath(msg: CoapMessage): string {
  return `/${msg.options
    .filter((o) => o.number === CoapOption.UriPath)
    .map((o) => o.value.toString('utf8'))
    .join('/')}`;
}

/** The first value of an option, if present. */
export function optionValue(msg: CoapMessage, number: number): Buffer | undefined {
  return msg.options.find((o) => o.number === number)?.value;
}

/** Uri-Path options for "/a/b". */
export function pathOptions(path: string): CoapOptionValue[] {
  return path
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => ({ number: CoapOption.UriPath, value: Buffer.from(s, 'utf8') }));
}
