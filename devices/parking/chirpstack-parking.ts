import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import { getCodec } from '../codecs.js';
import { parseChirpstackUplink } from './codecs/chirpstack.js';
import { isBenignDecode, reasonOfDecode } from './codecs/codec-kit.js';

/** Parking codecs a LoRaWAN bay sensor may use. */
const PARKING_CODECS = [
  'nwave-nps405',
  'nwave-nps310',
  'bosch-tps110',
  'milesight-em400-mud',
  'dingtek-do201',
] as const;

export const chirpstackParkingConfig = z
  .object({
    /** The sensor's DevEUI, 16 hex digits. */
    dev_eui: z
      .string()
      .regex(/^[0-9a-fA-F]{16}$/, 'expected a DevEUI of 16 hex digits')
      .transform((s) => s.toLowerCase()),
    codec: z.enum(PARKING_CODECS),
    /** Bay name in events; defaults to the device id. */
    bay: z.string().min(1).optional(),
    /** ChirpStack application id; `+` listens to every application. */
    application_id: z
      .string()
      .regex(/^[^#/\s]+$/)
      .default('+'),
    /** m, for distance sensors: at or below this the bay is occupied, 0.05-10 */
    threshold_m: z.number().min(0.05).max(10).optional(),
  })
  .strict();

/**
 * A LoRaWAN parking sensor whose uplinks arrive through ChirpStack v4's MQTT integration
 * (`application/<app>/device/<dev_eui>/event/up`). The envelope and the vendor payload are decoded by pure
 * codecs; every rejection is counted with its reason and the driver keeps listening.
 */
export const chirpstackParking = defineDriver({
  id: 'chirpstack-parking',
  kind: 'parking',
  transport: 'mqtt',
  description: 'LoRaWAN parking bay sensor via ChirpStack v4 MQTT uplinks (Nwave, Bosch, Milesight, Dingtek)',
  config: chirpstackParkingConfig,
  events: ['parking.occupancy', 'device.health'],
  create(ctx) {
    const cfg = ctx.config;
    const codec = getCodec(cfg.codec);
    const bay = cfg.bay ?? ctx.id;
    let occupied: boolean | undefined;
    let since: string | undefined;
    let unsubscribe: (() => void) | undefined;

    const onUplink = (_topic: string, body: Buffer): void => {
      let payload: Buffer;
      let fport: number;
      let rssi: number | undefined;
      try {
        const up = parseChirpstackUplink(body);
        if (up.devEui.toLowerCase() !== cfg.dev_eui) {
          ctx.reject('wrong_device', { dev_eui: up.devEui });
          return;
        }
        ({ payload, fport } = up);
        rssi = up.rssi_dbm;
      } catch (err) {
        ctx.reject(reasonOfDecode(err) ?? 'bad_envelope', { error: reasonOf(err) });
        return;
      }
      try {
        const opts = cfg.threshold_m === undefined ? { fport } : { fport, threshold_m: cfg.threshold_m };
        const { data } = codec.decode(payload, opts);
        ctx.health(true);
        if (typeof data.occupied !== 'boolean') return;
        if (data.occupied !== occupied) {
          occupied = data.occupied;
          since = new Date(ctx.clock.now().ms).toISOString();
        }
        const event: Record<string, unknown> = { bay, ...data, since };
        if (rssi !== undefined) event.rssi_dbm = rssi;
        ctx.emit('parking.occupancy', event);
      } catch (err) {
        if (isBenignDecode(err)) {
          ctx.health(true);
          return;
        }
        ctx.reject(reasonOfDecode(err) ?? 'garbage', { fport, error: reasonOf(err) });
      }
    };

    return {
      start() {
        const topic = `application/${cfg.application_id}/device/${cfg.dev_eui}/event/up`;
        unsubscribe = ctx.mqtt().subscribe(topic, onUplink);
      },
      stop() {
        unsubscribe?.();
      },
    };
  },
});
