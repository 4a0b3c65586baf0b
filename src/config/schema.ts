import { z } from 'zod';

/** The config file format version this Portier writes and reads; older files are migrated on load. */
export const CONFIG_VERSION = 1;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const mqttUrl = z
  .string()
  .regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/, 'expected an MQTT URL such as mqtt://127.0.0.1:1883');

/** `host:port`, e.g. 127.0.0.1:8080 */
const listenAddress = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, such as 127.0.0.1:8080');

export const deviceIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected a device id of lowercase letters, digits, - and _ (1-63 chars)');

/** The fields every device entry has; the rest belongs to the driver's own schema. */
export const deviceEntryBase = z.object({
  id: deviceIdSchema,
  driver: z.string().min(1, 'expected a driver id'),
  name: z.string().max(100).optional(),
  enabled: z.boolean().default(true),
});

export const cloudSchema = z
  .object({
    /** mqtts://host:8883 in the field; mqtt:// only on a bench. */
    url: mqttUrl,
    /** Topic prefix: <prefix>/<gw>/up/events */
    prefix: z
      .string()
      .regex(/^[^#+\s]+$/, 'expected a topic prefix without wildcards')
      .default('portier'),
    client_id: z.string().optional(),
    username: z.string().optional(),
    password_file: z.string().optional(),
    /** CA bundle that must sign the broker's certificate. */
    ca_file: z.string().optional(),
    /** Client certificate and key for mutual TLS. */
    cert_file: z.string().optional(),
    key_file: z.string().optional(),
    /** MQTT protocol version to try first; 5 falls back to 4 (3.1.1) when the broker refuses it. */
    protocol_version: z.union([z.literal(4), z.literal(5)]).default(5),
    /** events per published batch, 1-1000 */
    batch_max_events: z.number().int().min(1).max(1000).default(200),
    /** bytes per published batch, 1 KiB-1 MiB */
    batch_max_bytes: z.number().int().min(1024).max(1_048_576).default(131_072),
    /** ms an event may wait for companions before its batch is sent, 0-60000 */
    batch_max_age_ms: z.number().int().min(0).max(60_000).default(500),
    /** bytes on disk the outbox may use before telemetry and state are shed */
    disk_budget_bytes: z.number().int().min(1_048_576).default(2_147_483_648),
    /** JWK Set of the operator keys that sign provisioning, key and revocation commands; without it they are refused */
    operator_keys_file: z.string().optional(),
    /** batches awaiting PUBACK at most (the adaptive window's ceiling), 1-256 */
    max_inflight: z.number().int().min(1).max(256).default(16),
    /** ms, first reconnect delay (full jitter below it), 10-60000 */
    reconnect_min_ms: z.number().int().min(10).max(60_000).default(1000),
    /** ms, cap on the reconnect delay, 100-3600000 */
    reconnect_max_ms: z.number().int().min(100).max(3_600_000).default(60_000),
    /** ms without a PUBACK after which the connection is treated as dead and dropped, 1000-600000 */
    ack_timeout_ms: z.number().int().min(1000).max(600_000).default(30_000),
    /** s, MQTT keepalive, 5-3600 */
    keepalive_s: z.number().int().min(5).max(3600).default(30),
    /** s the broker keeps our session (and commands sent meanwhile) after we drop (MQTT 5), 0-4294967295 */
    session_expiry_s: z.number().int().min(0).max(4_294_967_295).default(604_800),
    /** days an acknowledged event stays in the local log (events tail, dashboard) unless the budget needs it, 0-3650 */
    retain_acked_days: z.number().min(0).max(3650).default(7),
    /** s between gateway.health reports of backlog and shed counts, 10-86400 */
    health_interval_s: z.number().int().min(10).max(86_400).default(300),
    /** s, the first downsampling keeps one telemetry reading per device per this interval, 1-86400 */
    telemetry_downsample_s: z.number().int().min(1).max(86_400).default(600),
    /** s a signed command may live (exp - iat) at most, 60-2592000 */
    command_max_lifetime_s: z.number().int().min(60).max(2_592_000).default(86_400),
  })
  .strict();

export const configSchema = z
  .object({
    version: z.literal(CONFIG_VERSION),
    gateway: z
      .object({
        id: deviceIdSchema.describe('gateway id, used in topics and events'),
        state_dir: z.string().min(1).default('/var/lib/portier'),
        /** IANA zone for pass time windows and PIN slots */
        timezone: z.string().default('UTC'),
        /** Trust the system clock as synchronized even without an NTP marker (bench, CI, demo). */
        trust_system_clock: z.boolean().default(false),
        /**
         * bytes kept free on the state directory's file system, >= 1 MiB: below it telemetry and state are shed by
         * the lanes' policy and an `alarm` disk_low is raised; below an eighth of it the disk counts as full
         */
        disk_min_free_bytes: z.number().int().min(1_048_576).default(134_217_728),
        /** bytes of the reserve file kept for access decisions and alarms on a full disk, 0-1 GiB */
        disk_reserve_bytes: z.number().int().min(0).max(1_073_741_824).default(16_777_216),
      })
      .strict(),
    log: z
      .object({ level: z.enum(LOG_LEVELS).default('info') })
      .strict()
      .default({ level: 'info' }),
    local_mqtt: z
      .object({
        url: mqttUrl.default('mqtt://127.0.0.1:1883'),
        base_topic: z
          .string()
          .regex(/^[^#+\s]+$/)
          .default('portier'),
        client_id: z.string().optional(),
      })
      .strict()
      .optional(),
    cloud: cloudSchema.optional(),
    admin: z
      .object({
        /** Bound to loopback by default: the API opens doors. */
        listen: listenAddress.default('127.0.0.1:8080'),
        enabled: z.boolean().default(true),
        /** PEM files for HTTPS; both or neither. */
        tls_cert_file: z.string().min(1).optional(),
        tls_key_file: z.string().min(1).optional(),
      })
      .strict()
      .refine((a) => (a.tls_cert_file === undefined) === (a.tls_key_file === undefined), {
        message: 'give both tls_cert_file and tls_key_file, or neither',
      })
      .default({ listen: '127.0.0.1:8080', enabled: true }),
    privacy: z
      .object({
        /** days local events are kept, 1-3650; events still waiting for the cloud are never purged */
        retention_days: z.number().int().min(1).max(3650).default(90),
      })
      .strict()
      .default({ retention_days: 90 }),
    gpio: z
      .object({
        /** auto: onoff when /sys/class/gpio exists, else the simulator */
        backend: z.enum(['auto', 'onoff', 'sim']).default('auto'),
        /** Directory of the simulated lines (one file per line holding 0 or 1). */
        sim_dir: z.string().optional(),
      })
      .strict()
      .default({ backend: 'auto' }),
    devices: z.array(deviceEntryBase.loose()).default([]),
  })
  .strict();

export type GatewayConfig = z.output<typeof configSchema>;
export type CloudConfig = z.output<typeof cloudSchema>;

/** A device entry after its driver's schema accepted it. */
export interface DeviceEntry {
  id: string;
  driver: string;
  name?: string;
  enabled: boolean;
  settings: Record<string, unknown>;
}
