/**
 * Bay sensor readings in SenML (RFC 8428, "Sensor Measurement Lists", JSON representation, content format 110):
 * the usual body of a CoAP or NB-IoT sensor. A pack is an array of records; `bn` (base name) prefixes every later
 * `n`, `bu` supplies a default unit; a value is `v` (number), `vb` (boolean) or `vs` (string). A record's meaning is
 * taken from the last segment of its resolved name (`urn:dev:mac:0024befffe804ff1:presence` → `presence`) and its
 * unit, using the SenML units registry (RFC 8428 §12.1: `m`, `Cel`, `V`, `%EL`).
 *
 * Also accepts the plain JSON object many sensors send instead (`{"occupied":true,"distance_m":1.2}`). Pure.
 */
import { compact, decodeError, readJsonObject, readText, round } from '../codec-kit.js';

const NAME = 'senml';
/** characters: a bay sensor's pack is a few hundred bytes */
const MAX_BODY = 4096;
/** records per pack */
const MAX_RECORDS = 64;

/** The normalized fields a bay sensor can give. */
export interface BayReading {
  occupied?: boolean;
  distance_m?: number;
  battery_v?: number;
  battery_pct?: number;
  temperature_c?: number;
}

const PRESENCE = new Set(['presence', 'occupied', 'occupancy', 'parking', 'vehicle']);

function lastSegment(name: string): string {
  const m = /([A-Za-z_]+)$/.exec(name);
  return (m?.[1] ?? '').toLowerCase();
}

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Read one record into `out`; records the reading does not know are skipped. */
function readRecord(rec: Record<string, unknown>, base: { bn: string; bu: string | undefined }, out: BayReading): void {
  if (typeof rec.bn === 'string') base.bn = rec.bn;
  if (typeof rec.bu === 'string') base.bu = rec.bu;
  const n = typeof rec.n === 'string' ? rec.n : '';
  const what = lastSegment(base.bn + n);
  const unit = typeof rec.u === 'string' ? rec.u : base.bu;
  const v = finite(rec.v);
  if (PRESENCE.has(what)) {
    if (typeof rec.vb === 'boolean') out.occupied = rec.vb;
    else if (v === 0 || v === 1) out.occupied = v === 1;
    return;
  }
  if (v === undefined) return;
  if (what === 'distance' && unit === 'm' && v >= 0 && v <= 20) out.distance_m = round(v, 3);
  else if (unit === 'Cel' && v >= -60 && v <= 100) out.temperature_c = round(v, 2);
  else if (unit === 'V' && v > 0 && v <= 20) out.battery_v = round(v, 3);
  else if (unit === '%EL' && v >= 0 && v <= 100) out.battery_pct = round(v, 1);
}

/**
 * Decode a SenML JSON pack or a plain reading object; throws `garbage`, `truncated`, `oversized` or
 * `out_of_range` (a pack with nothing a bay sensor reports).
 */
export function decodeBayReading(input: Buffer | string): BayReading {
  const text = readText(NAME, input, MAX_BODY).trim();
  const out: BayReading = {};
  if (text.startsWith('[')) {
    let pack: unknown;
    try {
      pack = JSON.parse(text);
    } catch {
      throw decodeError(NAME, text.endsWith(']') ? 'garbage' : 'truncated', 'SenML pack is not JSON');
    }
    if (!Array.isArray(pack) || pack.length === 0) throw decodeError(NAME, 'garbage', 'SenML pack is empty');
    if (pack.length > MAX_RECORDS) throw decodeError(NAME, 'oversized', `more than ${MAX_RECORDS} SenML records`);
    const base = { bn: '', bu: undefined as string | undefined };
    for (const rec of pack) {
      if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
        throw decodeError(NAME, 'garbage', 'a SenML record is not an object');
      }
      readRecord(rec as Record<string, unknown>, base, out);
    }
  } else {
    const o = readJsonObject(NAME, text);
    if (typeof o.occupied === 'boolean') out.occupied = o.occupied;
    const d = finite(o.distance_m);
    if (d !== undefined && d >= 0 && d <= 20) out.distance_m = round(d, 3);
    const t = finite(o.temperature_c);
    if (t !== undefined && t >= -60 && t <= 100) out.temperature_c = round(t, 2);
    const b = finite(o.battery_v);
    if (b !== undefined && b > 0 && b <= 20) out.battery_v = round(b, 3);
  }
  if (out.occupied === undefined && out.distance_m === undefined) {
    throw decodeError(NAME, 'out_of_range', 'no presence or distance in the reading');
  }
  return compact(out as Record<string, unknown>) as BayReading;
}
