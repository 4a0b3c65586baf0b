import { describe, expect, it } from 'vitest';
import { parseDeviceId, readCoiotStatus } from '../../../devices/weather/coiot/coiot-status.js';
import {
  CoapOption,
  CoapType,
  codeNumber,
  codeString,
  decodeCoap,
  encodeCoap,
  pathOptions,
  uintOption,
  uriPath,
} from '../../../src/transports/coap-message.js';

const reason = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { context?: { reason?: string } }).context?.reason;
  }
  return undefined;
};

describe('CoAP messages (RFC 7252 §3)', () => {
  it('decodes a GET /temperature like the exchanges of RFC 7252 Appendix A (CON, token, Uri-Path)', () => {
    // Laid out by hand from §3: 0x41 (version 1, CON, TKL 1), code 0.01 GET, MID 0x7d35, token 0x20, then option
    // delta 11 (Uri-Path) length 11. libcoap's client talks to the same codec in test/integration/drivers.
    const bytes = Buffer.concat([Buffer.from('41017d3520bb', 'hex'), Buffer.from('temperature')]);
    const m = decodeCoap(bytes);
    expect(m).toMatchObject({ type: CoapType.CON, code: 1, messageId: 0x7d35, token: Buffer.from([0x20]) });
    expect(uriPath(m)).toBe('/temperature');
    expect(encodeCoap(m).equals(bytes)).toBe(true);
  });

  it('decodes the piggybacked 2.05 "22.3 C" answer with its payload', () => {
    const bytes = Buffer.concat([Buffer.from('61457d3520ff', 'hex'), Buffer.from('22.3 C')]);
    const m = decodeCoap(bytes);
    expect(codeString(m.code)).toBe('2.05');
    expect(m.type).toBe(CoapType.ACK);
    expect(m.payload.toString()).toBe('22.3 C');
  });

  it('round-trips options that need 13- and 14-extended deltas and lengths (Shelly 3332, 3412, 3420)', () => {
    const msg = {
      type: CoapType.NON,
      code: 30,
      messageId: 0xbeef,
      token: Buffer.alloc(0),
      options: [
        ...pathOptions('/cit/s'),
        { number: CoapOption.CoiotDeviceId, value: Buffer.from('SHHT-1#A4CF12F454A3#2') },
        { number: CoapOption.CoiotValidity, value: uintOption(38_400) },
        { number: CoapOption.CoiotSerial, value: uintOption(7) },
        { number: CoapOption.UriQuery, value: Buffer.alloc(300, 0x61) },
      ],
      payload: Buffer.from('{"G":[[0,3101,21.4]]}'),
    };
    const back = decodeCoap(encodeCoap(msg));
    expect(back.options.map((o) => o.number)).toEqual([11, 11, 15, 3332, 3412, 3420]);
    expect(back.options.find((o) => o.number === 15)?.value.length).toBe(300);
    const status = readCoiotStatus(encodeCoap(msg), '10.0.0.9');
    expect(status).toEqual({
      deviceType: 'SHHT-1',
      mac: 'A4CF12F454A3',
      revision: '2',
      validity: 38_400,
      serial: 7,
      payload: msg.payload,
      remote: '10.0.0.9',
    });
  });

  it('encodes unsigned options in the fewest bytes and maps codes both ways', () => {
    expect(uintOption(0).length).toBe(0);
    expect([...uintOption(110)]).toEqual([110]);
    expect([...uintOption(38_400)]).toEqual([0x96, 0x00]);
    expect(codeNumber('4.04')).toBe(132);
    expect(codeString(69)).toBe('2.05');
  });

  it.each([
    ['41', 'truncated'],
    ['4101', 'truncated'],
    ['81017d35', 'garbage'],
    ['49017d35', 'garbage'],
    ['42017d3520', 'truncated'],
    ['41017d3520bbtemp', 'truncated'],
    ['40017d35ff', 'garbage'],
    ['40017d35f0', 'garbage'],
  ])('refuses %s as %s', (hex, why) => {
    const buf = Buffer.from(hex.replace('temp', Buffer.from('temp').toString('hex')), 'hex');
    expect(reason(() => decodeCoap(buf))).toBe(why);
  });

  it('refuses a datagram over 4 KiB as oversized', () => {
    expect(reason(() => decodeCoap(Buffer.alloc(5000, 0x40)))).toBe('oversized');
  });

  it('is not a CoIoT status without the device id option, on another path, or with a GET code', () => {
    const base = { type: CoapType.NON, messageId: 1, token: Buffer.alloc(0), payload: Buffer.from('{}') };
    const id = { number: CoapOption.CoiotDeviceId, value: Buffer.from('SHHT-1#A4CF12F454A3#2') };
    expect(readCoiotStatus(encodeCoap({ ...base, code: 30, options: pathOptions('/cit/s') }), 'x')).toBeUndefined();
    expect(readCoiotStatus(encodeCoap({ ...base, code: 30, options: [...pathOptions('/cit/d'), id] }), 'x')).toBe(
      undefined,
    );
    expect(readCoiotStatus(encodeCoap({ ...base, code: 1, options: [...pathOptions('/cit/s'), id] }), 'x')).toBe(
      undefined,
    );
    expect(parseDeviceId('SHHT-1#A4CF12#2')).toBeUndefined();
  });
});
