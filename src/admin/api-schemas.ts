import { z } from 'zod';
import { MAX_PASS_CHARS } from '../access/verify.js';
import { deviceIdSchema } from '../config/schema.js';
import { EVENT_TYPES } from '../core/events.js';

/**
 * Every request and response shape of the admin API, once, in zod: handlers validate with these and
 * openapi.ts turns the same objects into the OpenAPI document (z.toJSONSchema), so the two cannot drift apart.
 */

export const problemSchema = z.object({ field: z.string(), message: z.string() });

export const errorSchema = z.object({
  error: z.object({
    /** short stable reason: validation_failed, unauthorized, not_found, conflict, command_failed, ... */
    code: z.string(),
    message: z.string(),
    problems: z.array(problemSchema).optional(),
  }),
});

export const eventSchema = z.object({
  id: z.string().describe('ULID'),
  seq: z.number().int().describe('increases by one per gateway and log epoch'),
  epoch: z
    .string()
    .optional()
    .describe('the log epoch `seq` counts in: (gw, epoch, seq) names one event; absent on events stored before epochs'),
  gw: z.string(),
  dev: z.string(),
  type: z.enum(EVENT_TYPES),
  ts: z.string().describe('ISO 8601 time'),
  tq: z.enum(['synced', 'rtc', 'floor', 'unknown']),
  data: z.record(z.string(), z.unknown()),
});

export const deviceIdParams = z.object({ id: deviceIdSchema }).strict();

/** A device as the API shows it: registry record, driver facts, health and live state. */
export const deviceSchema = z.object({
  id: z.string(),
  driver: z.string(),
  kind: z.string().describe('lock, reader, parking, weather or sensor; "unknown" when the driver is gone'),
  name: z.string().optional(),
  enabled: z.boolean(),
  source: z.enum(['config', 'runtime']).describe('config devices are changed in the file, not here'),
  up: z.boolean().nullable().describe('null until the device has reported'),
  running: z.boolean().describe('a host runs it in this process'),
  rejected: z.record(z.string(), z.number().int()).describe('inputs rejected since start, by reason'),
  settings: z.record(z.string(), z.unknown()).describe('driver settings; secret-looking values are redacted'),
  state: z.record(z.string(), z.unknown()).describe('latest state merged from its events (as on the local broker)'),
  state_ts: z.string().nullable(),
  commands: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});

export const devicesResponse = z.object({
  devices: z.array(deviceSchema),
  /** parking zones and other sources with state but no registry entry */
  zones: z.array(z.object({ id: z.string(), state: z.record(z.string(), z.unknown()), state_ts: z.string() })),
});

export const devicePutBody = z
  .object({
    driver: z.string().min(1).max(64),
    name: z.string().max(100).optional(),
    enabled: z.boolean().optional(),
    settings: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const devicePutResponse = z.object({ action: z.enum(['added', 'changed']), device: deviceSchema });

export const deviceTestBody = z
  .object({ duration_ms: z.number().int().min(500).max(60_000).optional().describe('ms the strike stays open') })
  .strict();

export const deviceTestResponse = z.object({
  device: z.string(),
  action: z.enum(['pulsed', 'readings']),
  result: z.unknown().optional().describe("the driver's answer to the unlock command"),
  up: z.boolean().nullable(),
  state: z.record(z.string(), z.unknown()),
  events: z.array(eventSchema).describe('the latest events of the device, oldest first'),
});

export const releaseResponse = z.object({ device: z.string(), command: z.string(), result: z.unknown() });

export const driverSchema = z.object({
  id: z.string(),
  kind: z.string(),
  transport: z.string(),
  description: z.string(),
  events: z.array(z.string()),
  commands: z.array(z.string()),
  settings: z.record(z.string(), z.unknown()).describe("JSON Schema of the driver's settings (input form)"),
});
export const driversResponse = z.object({ drivers: z.array(driverSchema) });

export const eventsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    dev: z.string().min(1).max(63).optional(),
    type: z.enum(EVENT_TYPES).optional(),
    after: z.coerce.number().int().min(0).optional().describe('only events with a larger seq, oldest first'),
  })
  .strict();
export const eventsResponse = z.object({
  events: z.array(eventSchema),
  last_seq: z.number().int().describe('pass it as `after` (or Last-Event-ID) to read on: nothing skipped or repeated'),
});

export const streamQuery = z
  .object({
    dev: z.string().min(1).max(63).optional(),
    type: z.enum(EVENT_TYPES).optional(),
  })
  .strict();

const laneStatus = z.object({
  count: z.number().int(),
  oldest_age_s: z.number().nullable(),
  bytes: z.number().int(),
});
export const outboxResponse = z.object({
  lanes: z.object({ critical: laneStatus, state: laneStatus, telemetry: laneStatus }),
  total: laneStatus,
});

export const healthResponse = z.object({
  status: z.enum(['ok', 'degraded', 'failing']),
  gateway: z.string(),
  version: z.string(),
  uptime_s: z.number(),
  store: z.object({ ok: z.boolean(), reason: z.string().optional() }),
  devices: z.object({
    total: z.number().int(),
    up: z.number().int(),
    down: z.number().int(),
    unknown: z.number().int(),
    down_ids: z.array(z.string()),
  }),
  outbox: z.object({ count: z.number().int(), oldest_age_s: z.number().nullable() }),
  time: z.object({
    now: z.string(),
    quality: z.enum(['synced', 'rtc', 'floor', 'unknown']),
    floor: z.string().nullable(),
  }),
  local_mqtt: z.string().describe('state of the local broker link, or "off"'),
});
export const healthzResponse = z.object({ status: z.enum(['ok', 'failing']), reason: z.string().optional() });

export const passCheckBody = z
  .object({
    lock: deviceIdSchema.describe('the lock the credential would be shown at'),
    pass: z.string().min(1).max(MAX_PASS_CHARS).optional().describe('PT1:…, a JWT, hex or base64url'),
    pin: z.string().min(1).max(16).optional().describe('a keypad code'),
  })
  .strict()
  .refine((b) => (b.pass === undefined) !== (b.pin === undefined), {
    message: 'give exactly one of pass and pin',
    path: ['pass'],
  });
export const passCheckResponse = z.object({
  granted: z.boolean(),
  reason: z.string().describe('ok, or the first failing check (malformed, bad_signature, expired, …)'),
  lock: z.string(),
  credential: z.enum(['pass', 'pin']),
  detail: z.string().optional(),
  pass_id: z.string().optional(),
  format: z.string().optional(),
  kid: z.string().optional(),
  exp: z.string().optional(),
  uses_left: z.number().int().optional(),
  dry_run: z.literal(true).describe('nothing was recorded and no use was consumed'),
});

export const keysResponse = z.object({
  keys: z.array(z.object({ kid: z.string(), alg: z.string(), kty: z.string(), added_at: z.string() })),
});
export const keysImportBody = z
  .object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(64) })
  .loose()
  .describe('a JWK Set of issuer public keys');
export const keysImportResponse = z.object({
  imported: z.array(z.string()),
  skipped: z.array(z.object({ index: z.number().int(), reason: z.string() })),
});
export const kidParams = z.object({ kid: z.string().min(1).max(200) }).strict();

export const revocationsResponse = z.object({
  version: z.number().int(),
  revocations: z.array(
    z.object({ kind: z.enum(['pass', 'sub']), value: z.string(), reason: z.string().optional(), added_at: z.string() }),
  ),
});
export const revokeBody = z
  .object({
    kind: z.enum(['pass', 'sub']),
    value: z.string().min(1).max(256),
    reason: z.string().max(200).optional(),
  })
  .strict();
export const revokeParams = z.object({ kind: z.enum(['pass', 'sub']), value: z.string().min(1).max(256) }).strict();
export const revocationVersionResponse = z.object({ version: z.number().int() });

export const okResponse = z.object({ ok: z.literal(true) });
