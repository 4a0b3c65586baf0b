/**
 * Unit conversions to the SI units of DESIGN.md's `weather.reading`, with the rounding every weather codec uses,
 * so that the same reading gives the same number whichever station reported it.
 */
import { round } from '../../codec-kit.js';

/** °F → °C, 2 decimals. */
export const fToC = (f: number): number => round(((f - 32) * 5) / 9, 2);
/** °C, 2 decimals (for sources already in °C). */
export const celsius = (c: number): number => round(c, 2);
/** mph → m/s, 2 decimals (1 mph = 0.44704 m/s exactly). */
export const mphToMs = (mph: number): number => round(mph * 0.44704, 2);
/** km/h → m/s, 2 decimals. */
export const kmhToMs = (kmh: number): number => round(kmh / 3.6, 2);
/** knots → m/s, 2 decimals (1 kn = 1852 m / 3600 s). */
export const knotsToMs = (kn: number): number => round((kn * 1852) / 3600, 2);
/** m/s, 2 decimals. */
export const ms = (v: number): number => round(v, 2);
/** inHg → hPa, 2 decimals (1 inHg = 33.8638866667 hPa at 0 °C). */
export const inHgToHpa = (inHg: number): number => round(inHg * 33.8638866667, 2);
/** bar → hPa, 2 decimals. */
export const barToHpa = (bar: number): number => round(bar * 1000, 2);
/** hPa, 2 decimals. */
export const hpa = (v: number): number => round(v, 2);
/** inches → mm, 3 decimals (a Davis click of 0.01 in is 0.254 mm). */
export const inToMm = (inches: number): number => round(inches * 25.4, 3);
/** mm, 3 decimals. */
export const mm = (v: number): number => round(v, 3);

/** Wind direction normalized to [0, 360): 360 (north, as some stations send it) becomes 0. */
export function windDir(deg: number): number {
  const d = round(deg, 1) % 360;
  return d < 0 ? d + 360 : d;
}
