/**
 * LoRaWAN network-server envelopes: the uplink event JSON of ChirpStack v4 (MQTT integration, topic
 * `application/<app>/device/<dev_eui>/event/up`, protobuf JSON mapping: fields at their default value are left
 * out, so an absent `fCnt` or `fPort` is 0 and an absent `data` is empty) and of The Things Stack v3
 * (`v3/<app>/devices/<dev>/up`, snake_case, empty fields omitted too). Both parse to one {@link LoraUplink}; the
 * `chirpstack` codec then hands the payload to the device codec named in `device_codec`.
 */
import { z } from 'zod';
import {
  type Codec,
  type DecodedEvent,
  type DecodeOptions,
  decodeError,
  readJsonObject,
  readText,
} from '../../codec-kit.js';
import { LORAWAN_MAX_PAYLOAD } from './lora-codec.js';

/** What the drivers need from one uplink, whichever network server delivered it. */
export interface LoraUplink {
  /** DevEUI, 16 lowercase hex digits. */
  devEui: string;
  /** LoRaWAN FPort, 0-255 (0: MAC commands only, no application payload). */
  fport: number;
  /** Uplink frame counter, 0-4294967295. */
  fcnt: number;
  /** The decrypted application payload (FRMPayload), at most 242 bytes. */
  payload: Buffer;
  /** dBm, the best RSSI among the receiving gateways, when reported. */
  rssi_dbm?: number;
  /** dB, the SNR at that gateway, when reported. */
  snr_db?: number;
  /** ISO time the network server received the uplink, when reported. */
  time?: string;
  deviceName?: string;
  applicationId?: string;
  server: 'chirpstack' | 'tts';
}

/** Largest envelope accepted, characters: a v4 event with a dozen receiving gateways stays far below this. */
export const MAX_ENVELOPE_CHARS = 32_768;

const devEui = z.string().regex(/^[0-9a-fA-F]{16}$/, 'DevEUI must be 16 hex digits');
const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'not base64');
const u32 = z.number().int().min(0).max(0xffffffff);
const rx = z.object({ rssi: z.number().optional(), snr: z.number().optional() });

/**
 * ChirpStack v4 `UplinkEvent` (integration.proto) in its JSON mapping. Unknown fields are allowed and left out of
 * the result (zod's default): copying a whole envelope, every gateway of `rxInfo` included, costs more than the rest
 * of the decode.
 */
export const chirpstackUplinkSchema = z.object({
  deduplicationId: z.string().optional(),
  time: z.string().optional(),
  deviceInfo: z.object({
    devEui,
    deviceName: z.string().optional(),
    applicationId: z.string().optional(),
  }),
  fCnt: u32.default(0),
  fPort: z.number().int().min(0).max(255).default(0),
  data: base64.default(''),
  rxInfo: z.array(rx).default([]),
});

/** The Things Stack v3 uplink message; unknown fields are allowed and left out, as above. */
export const ttsUplinkSchema = z.object({
  end_device_ids: z.object({
    device_id: z.string(),
    dev_eui: devEui,
    application_ids: z.object({ application_id: z.string() }).optional(),
  }),
  received_at: z.string().optional(),
  uplink_message: z.object({
    f_port: z.number().int().min(0).max(255).default(0),
    f_cnt: u32.default(0),
    frm_payload: base64.default(''),
    rx_metadata: z.array(rx).default([]),
    received_at: z.string().optional(),
  }),
});

function bestSignal(list: readonly { rssi?: number; snr?: number }[]): { rssi_dbm?: number; snr_db?: number } {
  let best: { rssi?: number; snr?: number } | undefined;
  for (const r of list) if (r.rssi !== undefined && (best?.rssi === undefined || r.rssi > best.rssi)) best = r;
  if (!best) return {};
  return best.snr === undefined ? { rssi_dbm: best.rssi } : { rssi_dbm: best.rssi, snr_db: best.snr };
}

/** The envelope as a plain object, bounded in size. */
function readEnvelope(codec: string, body: Buffer | string | Record<string, unknown>): Record<string, unknown> {
  if (typeof body === 'object' && !Buffer.isBuffer(body)) return body;
  return readJsonObject(codec, readText(codec, body, MAX_ENVELOPE_CHARS));
}

function envelope<S extends z.ZodType>(codec: string, schema: S, obj: Record<string, unknown>): z.output<S> {
  const r = schema.safeParse(obj);
  if (!r.success) {
    const issue = r.error.issues[0];
    const at = issue?.path.join('.') || '(root)';
    throw decodeError(codec, 'bad_envelope', `${at}: ${issue?.message ?? 'invalid'}`, { path: at });
  }
  return r.data;
}

function payloadOf(codec: string, b64: string): Buffer {
  const payload = Buffer.from(b64, 'base64');
  if (payload.length > LORAWAN_MAX_PAYLOAD) {
    throw decodeError(codec, 'oversized', `payload of ${payload.length} bytes exceeds ${LORAWAN_MAX_PAYLOAD}`);
  }
  return payload;
}

function strip<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** Parse a ChirpStack v4 uplink event (JSON text or bytes); throws `garbage`, `truncated`, `bad_envelope`, `oversized`. */
export function parseChirpstackUplink(body: Buffer | string | Record<string, unknown>): LoraUplink {
  const e = envelope('chirpstack', chirpstackUplinkSchema, readEnvelope('chirpstack', body));
  return strip({
    server: 'chirpstack' as const,
    devEui: e.deviceInfo.devEui.toLowerCase(),
    fport: e.fPort,
    fcnt: e.fCnt,
    payload: payloadOf('chirpstack', e.data),
    ...bestSignal(e.rxInfo),
    time: e.time,
    deviceName: e.deviceInfo.deviceName,
    applicationId: e.deviceInfo.applicationId,
  });
}

/** Parse a The Things Stack v3 uplink message (JSON text or bytes); same errors as {@link parseChirpstackUplink}. */
export function parseTtsUplink(body: Buffer | string | Record<string, unknown>): LoraUplink {
  const e = envelope('tts', ttsUplinkSchema, readEnvelope('tts', body));
  const up = e.uplink_message;
  return strip({
    server: 'tts' as const,
    devEui: e.end_device_ids.dev_eui.toLowerCase(),
    fport: up.f_port,
    fcnt: up.f_cnt,
    payload: payloadOf('tts', up.frm_payload),
    ...bestSignal(up.rx_metadata),
    time: up.received_at ?? e.received_at,
    deviceName: e.end_device_ids.device_id,
    applicationId: e.end_device_ids.application_ids?.application_id,
  });
}

/** Either envelope: a body with `uplink_message` is The Things Stack's, anything else is tried as ChirpStack's. */
export function parseLoraUplink(body: Buffer | string): LoraUplink {
  const obj = readEnvelope('chirpstack', body);
  return 'uplink_message' in obj ? parseTtsUplink(obj) : parseChirpstackUplink(obj);
}

/**
 * The `chirpstack` codec: an uplink envelope decoded by the device codec named in `opts.device_codec` (a LoRaWAN
 * codec; the envelope's fPort is passed on). A parking event gains the uplink's `rssi_dbm`. `lookup` resolves
 * codec names (injected by the catalogue, which imports this module).
 */
export function makeChirpstackCodec(lookup: (name: string) => Codec | undefined): Codec {
  const NAME = 'chirpstack';
  return {
    name: NAME,
    kind: 'envelope',
    input: 'json',
    description: 'ChirpStack v4 (or The Things Stack v3) uplink JSON, payload decoded by --device-codec',
    decode(input: Buffer | string, opts: DecodeOptions = {}): DecodedEvent {
      if (opts.fport !== undefined) {
        throw decodeError(NAME, 'wrong_port', 'the uplink carries its own fPort', { fport: opts.fport });
      }
      const name = opts.device_codec;
      if (typeof name !== 'string' || name.length === 0) {
        throw decodeError(NAME, 'bad_option', 'needs device_codec (the codec of the device behind the uplink)');
      }
      const inner = name === NAME ? undefined : lookup(name);
      if (!inner) throw decodeError(NAME, 'unknown_codec', `unknown device codec "${name}"`, { device_codec: name });
      const up = parseLoraUplink(input);
      const { device_codec: _omit, ...rest } = opts;
      const ev = inner.decode(up.payload, { ...rest, fport: up.fport });
      if (ev.type === 'parking.occupancy' && up.rssi_dbm !== undefined) {
        return { type: ev.type, data: { ...ev.data, rssi_dbm: up.rssi_dbm } };
      }
      return ev;
    },
  };
}
