/**
 * Davis Vantage Pro / Pro2 / Vue LOOP (packet type 0) and LOOP2 (packet type 1) packets, as the console sends
 * them over its serial data logger: 99 bytes, "LOO", little-endian fields, "\n\r" and a CRC-16/XMODEM sent most
 * significant byte first. Offsets and dash values from the Davis "Vantage Pro, Pro2 and Vue Serial Communication
 * Reference Manual" rev 2.6.1 (section IX.1, LOOP and LOOP2 data formats).
 */
import {
  type Codec,
  type DecodedEvent,
  type DecodeOptions,
  decodeError,
  readBytes,
  refusePort,
  round,
} from '../../codec-kit.js';
import { crc16Xmodem } from './davis-crc.js';
import { type WeatherFields, weatherReading } from './reading.js';
import { fToC, inHgToHpa, mm, mphToMs, windDir } from './units.js';

/** Bytes in every LOOP and LOOP2 packet, CRC included. */
export const LOOP_PACKET_BYTES = 99;

const NAME = 'davis-loop';

/** mm of rain per bucket tip, by collector (the console's "rain collector" setting). */
export const RAIN_COLLECTORS: Readonly<Record<string, number>> = {
  '0.01in': 0.254,
  '0.2mm': 0.2,
  '0.1mm': 0.1,
};

function clickMm(opts?: DecodeOptions): number {
  const name = opts?.rain_collector ?? '0.01in';
  const v = RAIN_COLLECTORS[name];
  if (v === undefined) {
    throw decodeError(NAME, 'bad_option', `rain_collector must be one of ${Object.keys(RAIN_COLLECTORS).join(', ')}`, {
      rain_collector: name,
    });
  }
  return v;
}

/** Fields both packet types carry at the same offsets; each dash value (no sensor, no data) becomes absent. */
function common(p: Buffer, click: number): WeatherFields {
  // Barometer is inHg/1000; the manual says values outside 20-32.5 inHg are not logged, and 0 means none.
  const bar = p.readUInt16LE(7);
  const outTemp = p.readInt16LE(12);
  const wind = p.readUInt8(14);
  const dir = p.readUInt16LE(16);
  const hum = p.readUInt8(33);
  const rate = p.readUInt16LE(41);
  const uv = p.readUInt8(43);
  const solar = p.readUInt16LE(44);
  const dayRain = p.readUInt16LE(50);
  return {
    temperature_c: outTemp === 0x7fff ? undefined : fToC(outTemp / 10),
    humidity_pct: hum === 0xff || hum > 100 ? undefined : hum,
    pressure_hpa: bar < 20000 || bar > 32500 ? undefined : inHgToHpa(bar / 1000),
    wind_speed_ms: wind === 0xff ? undefined : mphToMs(wind),
    // 1-360 degrees; 0 means no wind data and 0x7FFF a dashed direction.
    wind_dir_deg: dir === 0 || dir > 360 ? undefined : windDir(dir),
    // The day's rain: the console resets it at midnight, which the aggregator handles as a counter reset.
    rain_mm: dayRain === 0xffff ? undefined : mm(dayRain * click),
    rain_rate_mm_h: rate === 0xffff ? undefined : mm(rate * click),
    uv_index: uv === 0xff ? undefined : round(uv / 10, 1),
    solar_wm2: solar === 0x7fff || solar > 1800 ? undefined : solar,
  };
}

function loop1(p: Buffer, click: number): WeatherFields {
  // One bit per transmitter station, 1 = low battery; 0 means every transmitter reports a good battery.
  const txBattery = p.readUInt8(86);
  return { ...common(p, click), battery_ok: txBattery === 0 };
}

function loop2(p: Buffer, click: number): WeatherFields {
  const gust = p.readUInt16LE(22);
  const dew = p.readInt16LE(30);
  return {
    ...common(p, click),
    // 10-minute gust in whole mph; 0xFF (or 0xFFFF) when dashed.
    wind_gust_ms: gust === 0xff || gust === 0xffff ? undefined : mphToMs(gust),
    // Whole °F, computed by the console; a low byte of 0xFF marks it dashed.
    dew_point_c: (dew & 0xff) === 0xff ? undefined : fToC(dew),
  };
}

/**
 * Decode one 99-byte LOOP or LOOP2 packet. The CRC is checked over the whole packet (0 when intact).
 * Options: `rain_collector` (`0.01in` default, `0.2mm`, `0.1mm`) scales rain clicks.
 */
export function decodeDavisLoop(input: Buffer | string, opts?: DecodeOptions): DecodedEvent {
  refusePort(NAME, opts);
  const click = clickMm(opts);
  const p = readBytes(NAME, input, LOOP_PACKET_BYTES, LOOP_PACKET_BYTES);
  if (p[0] !== 0x4c || p[1] !== 0x4f || p[2] !== 0x4f)
    throw decodeError(NAME, 'garbage', 'packet does not start "LOO"');
  if (crc16Xmodem(p) !== 0) throw decodeError(NAME, 'bad_crc', 'CRC-16 over the packet is not 0');
  const type = p.readUInt8(4);
  // Rev A firmware sent "LOOP" with byte 3 = 'P' and byte 4 = 0: the same layout as type 0.
  // A packet with every field dashed (the ISS out of reach) has no reading to give: `out_of_range`.
  if (type === 0) return weatherReading(NAME, loop1(p, click));
  if (type === 1) return weatherReading(NAME, loop2(p, click));
  throw decodeError(NAME, 'garbage', `unknown LOOP packet type ${type}`, { packet_type: type });
}

export const davisLoopCodec: Codec = {
  name: NAME,
  kind: 'weather',
  input: 'hex',
  description: 'Davis Vantage LOOP and LOOP2 packets (99 bytes, CRC-16/XMODEM)',
  decode: decodeDavisLoop,
};
