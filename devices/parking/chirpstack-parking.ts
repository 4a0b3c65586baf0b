import { z } from 'zod';
import { type DeviceDriver, type DriverContext, type DriverDefinition, defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import { isBenignDecode, reasonOfDecode } from '../codec-kit.js';
import { getCodec } from '../codecs.js';
import type { LoraUplink } from './codecs/chirpstack.js';
import { type LoraServer, loraRouter } from './lorawan-router.js';
import { bayTracker, type OccupancyConfig, occupancySettings } from './occupancy/settings.js';

/** Parking codecs a LoRaWAN bay sensor may use. */
const PARKING_CODECS = [
  'nwave-nps405',
  'nwave-nps310',
  'bosch-tps110',
  'milesight-em400-mud',
  'dingtek-do201',
] as const;

const baseShape = {
  /** The sensor's DevEUI, 16 hex digits. */
  dev_eui: z
    .string()
    .regex(/^[0-9a-fA-F]{16}$/, 'expected a DevEUI of 16 hex digits')
    .transform((s) => s.toLowerCase()),
  codec: z.enum(PARKING_CODECS),
  /** m, for distance sensors: at or below this the bay is occupied, 0.05-10 */
  threshold_m: z.number().min(0.05).max(10).optional(),
  // LoRaWAN sensors debounce on the device and each uplink carries battery and signal: report every one.
  ...occupancySettings({ debounceMs: 0, report: 'every' }),
};

const needsThreshold = (c: { hysteresis_m: number; threshold_m?: number | undefined }) =>
  c.hysteresis_m === 0 || c.threshold_m !== undefined;
const thresholdIssue = { message: 'hysteresis_m needs threshold_m', path: ['hysteresis_m'] };

export const chirpstackParkingConfig = z
  .object({
    ...baseShape,
    /** ChirpStack application id; `+` accepts every application. */
    application_id: z
      .string()
      .regex(/^[^#/\s]+$/)
      .default('+'),
  })
  .strict()
  .refine(needsThreshold, thresholdIssue);

export const ttsParkingConfig = z
  .object({
    ...baseShape,
    /** `<application id>@<tenant id>` as in the topic (`my-app@ttn`); `+` accepts every application. */
    application_id: z
      .string()
      .regex(/^[^#/\s]+$/)
      .default('+'),
    /** The Things Stack end device id: an uplink too broken to parse is still counted against this device. */
    device_id: z
      .string()
      .regex(/^[a-z0-9](?:[-]?[a-z0-9]){1,35}$/, 'expected a TTS device id (lowercase letters, digits and -)')
      .optional(),
  })
  .strict()
  .refine(needsThreshold, thresholdIssue);

type LoraParkingConfig = OccupancyConfig & {
  dev_eui: string;
  codec: (typeof PARKING_CODECS)[number];
  threshold_m?: number | undefined;
  application_id: string;
  device_id?: string | undefined;
};

/**
 * The driver body both network servers share: register with the server's router (one MQTT subscription for all
 * sensors), decode the payload with the device's codec, and feed the bay's occupancy state.
 */
function createLoraParking(server: LoraServer, ctx: DriverContext<LoraParkingConfig>): DeviceDriver {
  const cfg = ctx.config;
  const codec = getCodec(cfg.codec);
  const bay = bayTracker(ctx as DriverContext<unknown>, cfg, cfg.hysteresis_m > 0 ? cfg.threshold_m : undefined);
  // One options object, reused for every uplink (codecs only read it).
  const decodeOpts: { fport?: number; threshold_m?: number } = {};
  if (cfg.threshold_m !== undefined) decodeOpts.threshold_m = cfg.threshold_m;
  let remove: (() => void) | undefined;

  const onUplink = (up: LoraUplink): void => {
    try {
      decodeOpts.fport = up.fport;
      const { data } = codec.decode(up.payload, decodeOpts);
      if (up.rssi_dbm !== undefined) data.rssi_dbm = up.rssi_dbm;
      // The decoded object becomes the event's data: the tracker sets bay, occupied and since on it.
      bay.observe({
        occupied: typeof data.occupied === 'boolean' ? data.occupied : undefined,
        distance_m: typeof data.distance_m === 'number' ? data.distance_m : undefined,
        extra: data,
      });
    } catch (err) {
      if (isBenignDecode(err)) {
        // A debug dump or a configuration echo still proves the sensor is alive.
        bay.observe({});
        return;
      }
      ctx.reject(reasonOfDecode(err) ?? 'garbage', { fport: up.fport, error: reasonOf(err) });
    }
  };

  return {
    start() {
      const route: Parameters<ReturnType<typeof loraRouter>['add']>[0] = {
        devEui: cfg.dev_eui,
        application: cfg.application_id,
        onUplink,
        onReject: (reason, detail) => ctx.reject(reason, detail),
      };
      if (cfg.device_id !== undefined) route.deviceId = cfg.device_id;
      remove = loraRouter(ctx.shared, ctx.mqtt(), server, ctx.log).add(route);
      bay.start();
    },
    stop() {
      remove?.();
      bay.stop();
    },
  };
}

/**
 * A LoRaWAN parking sensor whose uplinks arrive through ChirpStack v4's MQTT integration
 * (`application/<app>/device/<dev_eui>/event/up`). The envelope and the vendor payload are decoded by pure
 * codecs; every rejection is counted with its reason and the driver keeps listening.
 */
export const chirpstackParking: DriverDefinition = defineDriver({
  id: 'chirpstack-parking',
  kind: 'parking',
  transport: 'mqtt',
  description: 'LoRaWAN parking bay sensor via ChirpStack v4 MQTT uplinks (Nwave, Bosch, Milesight, Dingtek)',
  config: chirpstackParkingConfig,
  events: ['parking.occupancy', 'device.health', 'alarm'],
  create: (ctx) => createLoraParking('chirpstack', ctx as DriverContext<LoraParkingConfig>),
});

/**
 * The same sensors behind The Things Stack v3 (`v3/<app>@<tenant>/devices/<device>/up`, via its MQTT server or a
 * mosquitto bridge to it): the topic names the TTS device id, the body carries the DevEUI.
 */
export const ttsParking: DriverDefinition = defineDriver({
  id: 'tts-parking',
  kind: 'parking',
  transport: 'mqtt',
  description: 'LoRaWAN parking bay sensor via The Things Stack v3 MQTT uplinks (Nwave, Bosch, Milesight, Dingtek)',
  config: ttsParkingConfig,
  events: ['parking.occupancy', 'device.health', 'alarm'],
  create: (ctx) => createLoraParking('tts', ctx as DriverContext<LoraParkingConfig>),
});
