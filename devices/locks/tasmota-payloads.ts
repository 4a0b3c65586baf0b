/**
 * Tasmota's MQTT conventions (Tasmota docs, "MQTT"): topics are FullTopic `%prefix%/%topic%/` + a command or status
 * name, with the prefixes `cmnd` (to the device), `stat` (answers) and `tele` (periodic telemetry, the LWT). A relay
 * reports `stat/<topic>/POWER` "ON"/"OFF", answers commands with `stat/<topic>/RESULT` {"POWER":"ON"}, sends
 * `tele/<topic>/STATE` JSON with a "POWER" field every TelePeriod, and keeps a retained `tele/<topic>/LWT` "Online"
 * that the broker replaces with its will "Offline" when the device drops off.
 */

/** bytes: a STATE message is ~0.5 KB; anything far larger is not from a relay. */
export const TASMOTA_MAX_PAYLOAD = 4096;

export type TasmotaPrefix = 'cmnd' | 'stat' | 'tele';

/** `full` is Tasmota's FullTopic with %prefix% and %topic%, default "%prefix%/%topic%/". */
export function tasmotaTopic(full: string, prefix: TasmotaPrefix, topic: string, name: string): string {
  return `${full.replaceAll('%prefix%', prefix).replaceAll('%topic%', topic)}${name}`;
}

/** "POWER" for a single-relay device (index 0), "POWER<n>" for relay n of a multi-relay one. */
export function powerName(index: number): string {
  return index === 0 ? 'POWER' : `POWER${index}`;
}

/** A power state text: Tasmota's defaults ON/OFF, and the numeric and boolean forms some setups use. */
export function parsePowerText(text: string): boolean | undefined {
  const t = text.trim().toUpperCase();
  if (t === 'ON' || t === '1' || t === 'TRUE') return true;
  if (t === 'OFF' || t === '0' || t === 'FALSE') return false;
  return undefined;
}

export type PowerReport = { ok: true; on: boolean | undefined } | { ok: false; reason: 'bad_json' | 'bad_payload' };

/**
 * The relay's state in a RESULT or STATE JSON body: `on` is undefined when the message is about something else
 * (a RESULT of another command, a STATE without the field).
 */
export function parsePowerJson(body: string, name: string): PowerReport {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'bad_json' };
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { ok: false, reason: 'bad_json' };
  const record = doc as Record<string, unknown>;
  // A single-relay device may answer POWER1 as POWER and the other way round.
  const value = record[name] ?? (name === 'POWER' ? record.POWER1 : name === 'POWER1' ? record.POWER : undefined);
  if (value === undefined) return { ok: true, on: undefined };
  if (typeof value !== 'string') return { ok: false, reason: 'bad_payload' };
  const on = parsePowerText(value);
  return on === undefined ? { ok: false, reason: 'bad_payload' } : { ok: true, on };
}

/** The LWT text: Tasmota's defaults Online/Offline. */
export function parseLwt(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'online') return true;
  if (t === 'offline') return false;
  return undefined;
}
