import { z } from 'zod';

/** The config file format version this Portier writes and reads; older files are migrated on load. */
export const CONFIG_VERSION = 1;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const MQTT_URL = /^(mqtts?|wss?|tcp|ssl):\/\/[^\s,]+$/;
const mqttUrl = z.string().regex(MQTT_URL, 'expected an MQTT URL such as mqtt://127.0.0.1:1883');
/** One MQTT URL, or several separated by commas (the nodes of a clustered broker). */
const mqttUrlList = z
  .string()
  .refine(
    (s) => splitUrls(s).length > 0 && splitUrls(s).every((u) => MQTT_URL.test(u)),
    'expected an MQTT URL such as mqtts://broker:8883, or several separated by commas',
  );

/** The URLs of a comma-separated list, trimmed, empty items left out. */
export function splitUrls(list: string): string[] {
  return list
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
}

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
    /** mqtts://host:8883 in the field (mqtt:// only on a bench); a comma-separated list for a clustered broker. */
    url: mqttUrlList.optional(),
    /** The nodes of a clustered broker, tried in turn (instead of `url`). */
    urls: z.array(mqttUrl).min(1).max(32).optional(),
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
    /**
     * ms, cap on the reconnect delay while the broker has been away briefly (it then grows to a tenth of the
     * absence, up to reconnect_max_ms), 100-3600000
     */
    reconnect_quick_max_ms: z.number().int().min(100).max(3_600_000).default(5000),
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
  .strict()
  .refine((c) => (c.url === undefined) !== (c.urls === undefined), {
    message: 'give the broker as url (one URL or a comma-separated list) or as urls (a list), one of the two',
    path: ['url'],
  })
  // One list for the code, whichever way the file gave it.
  .transform(({ url, urls, ...rest }) => ({ ...rest, urls: urls ?? splitUrls(url ?? '') }));

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
        /**
         * ms telemetry and state events wait in memory to be committed together (with synchronous=FULL), 0-10000:
         * what a power cut may cost of them; 0 commits every turn of the event loop (docs/sync.md, Durability)
         */
        commit_window_ms: z.number().int().min(0).max(10_000).default(8000),
        /**
         * directory of the commit window's crash journal (events waiting for their commit that no broker would
         * deliver again, replayed after a process crash): a tmpfs; default $RUNTIME_DIRECTORY (systemd's
         * RuntimeDirectory, /run/portier), else the state directory (docs/operations.md, Crash journal)
         */
        crash_journal_dir: z.string().min(1).optional(),
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
        /** default `portier-<gateway id>-local`: stable, so the broker keeps our session across restarts */
        client_id: z.string().optional(),
        /** The gateway's user on the local broker (a broker that admits no anonymous clients, config/mosquitto/). */
        username: z.string().min(1).optional(),
        /** File holding that user's password (mode 0600); read at start. */
        password_file: z.string().min(1).optional(),
        /**
         * s the broker keeps the gateway's session (subscriptions, queued QoS 1 uplinks) while it is away; 0 = a
         * clean session on every connect (uplinks sent while the gateway is down are lost), 0-4294967295
         */
        session_expiry_s: z.number().int().min(0).max(4_294_967_295).default(604_800),
      })
      .strict()
      .refine((m) => m.password_file === undefined || m.username !== undefined, {
        message: 'password_file needs a username',
        path: ['username'],
      })
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
        /**
         * Host names the API answers to besides its listen address (and, on loopback or all addresses, localhost
         * and the loopback addresses; on all addresses, the Pi's own addresses and host name): e.g. the name in its
         * TLS certificate. Any other Host header is refused (421), which stops DNS rebinding from a browser.
         */
        host_names: z
          .array(z.string().regex(/^[A-Za-z0-9.:_-]{1,253}$/, 'expected a host name or address without a port'))
          .default([]),
        /** Serve /metrics to loopback clients without the token (a local Prometheus); default: the token always. */
        metrics_open: z.boolean().default(false),
      })
      .strict()
      .refine((a) => (a.tls_cert_file === undefined) === (a.tls_key_file === undefined), {
        message: 'give both tls_cert_file and tls_key_file, or neither',
      })
      .default({ listen: '127.0.0.1:8080', enabled: true, host_names: [], metrics_open: false }),
    /**
     * NGSI-LD for the town's data platform (FIWARE context broker): bays, zones and weather stations as Smart Data
     * Models entities, served on the admin API and/or pushed to a broker (docs/open-data.md).
     */
    ngsi_ld: z
      .object({
        /** Serve GET /ngsi-ld/v1/entities (and /ngsi-ld/entities) on the admin API, with its token. */
        serve: z.boolean().default(false),
        push: z
          .object({
            /** The context broker's base URL (http or https), e.g. https://broker.stadt.de; upserts go to {url}/ngsi-ld/v1/entityOperations/upsert */
            url: z.string().regex(/^https?:\/\/[^\s]+$/, 'expected an http(s) URL such as https://broker.example:1026'),
            /** NGSILD-Tenant header, when the broker is multi-tenant */
            tenant: z
              .string()
              .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a tenant name of letters, digits, - and _')
              .optional(),
            /** entities per upsert request, 1-1000 */
            batch_size: z.number().int().min(1).max(1000).default(100),
            /** s between upserts of what changed, 1-3600 */
            interval_s: z.number().int().min(1).max(3600).default(5),
            /** entities waiting at most (the latest state of each; beyond it the oldest is dropped and counted), 1-1000000 */
            max_queue: z.number().int().min(1).max(1_000_000).default(10_000),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
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
