import { z } from 'zod';

/**
 * Home Assistant's MQTT discovery schema, restated in zod from its documentation (the `{% configuration %}` blocks
 * of the pages below, as published in home-assistant/home-assistant.io):
 * - MQTT discovery, topic format and payload:  https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
 * - MQTT lock:           https://www.home-assistant.io/integrations/lock.mqtt/
 *                        (source/_integrations/lock.mqtt.markdown @ ebecc7e8048252f83c9b5c0035a196707f70d2e1)
 * - MQTT binary sensor:  https://www.home-assistant.io/integrations/binary_sensor.mqtt/
 *                        (source/_integrations/binary_sensor.mqtt.markdown @ fbc3a3b3bdcce503437401c8ea500a3f72181fd8)
 * - MQTT sensor:         https://www.home-assistant.io/integrations/sensor.mqtt/
 *                        (source/_integrations/sensor.mqtt.markdown @ 9e4a69ab998700a518e366a7f54551a150fccf94)
 * - Binary sensor device classes: https://www.home-assistant.io/integrations/binary_sensor/#device-class
 * - Sensor device classes and their units: https://www.home-assistant.io/integrations/sensor/#device-class
 *                        (source/_integrations/sensor.markdown @ 7450caca5f98bff566520400239f9e2ee525cb29)
 * - State classes: https://developers.home-assistant.io/docs/core/entity/sensor#available-state-classes
 *
 * - Device-based discovery (HA 2024.11+) and the origin block:
 *                        https://www.home-assistant.io/integrations/mqtt/#device-discovery-payload and
 *                        https://www.home-assistant.io/integrations/mqtt/#discovery-payload (origin: name required,
 *                        sw_version, support_url; abbreviations dev, o, cmps, p)
 *
 * The objects are strict although Home Assistant drops unknown keys silently: a misspelt key would be lost
 * without a word in production, so the test must catch it. `platform` is refused because the docs allow it only
 * in device-based discovery messages, not in the per-entity topics Portier uses.
 */

/** `<discovery_prefix>/<component>/[<node_id>/]<object_id>/config`; ids from the class [a-zA-Z0-9_-]. */
export const DISCOVERY_TOPIC = /^homeassistant\/(lock|binary_sensor|sensor)\/[a-zA-Z0-9_-]+\/[a-zA-Z0-9_-]+\/config$/;

const availabilityEntry = z
  .object({
    topic: z.string().min(1),
    payload_available: z.string().optional(),
    payload_not_available: z.string().optional(),
    value_template: z.string().optional(),
  })
  .strict();

const device = z
  .object({
    configuration_url: z
      .string()
      .regex(/^(https?|homeassistant):\/\//)
      .optional(),
    connections: z.array(z.tuple([z.string(), z.string()])).optional(),
    hw_version: z.string().optional(),
    identifiers: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    manufacturer: z.string().optional(),
    model: z.string().optional(),
    model_id: z.string().optional(),
    name: z.string().optional(),
    serial_number: z.string().optional(),
    suggested_area: z.string().optional(),
    sw_version: z.string().optional(),
    via_device: z.string().optional(),
  })
  .strict()
  .refine((d) => d.identifiers !== undefined || d.connections !== undefined, {
    message: 'At least one of identifiers or connections must be present to identify the device',
  });

/** `<discovery_prefix>/device/<object_id>/config` of device-based discovery. */
export const DEVICE_DISCOVERY_TOPIC = /^homeassistant\/device\/[a-zA-Z0-9_-]+\/config$/;

/** The origin block: "name" is required, sw_version and support_url optional. */
export const originSchema = z
  .object({
    name: z.string().min(1),
    sw_version: z.string().optional(),
    support_url: z
      .string()
      .regex(/^https?:\/\//)
      .optional(),
  })
  .strict();

/** Keys every MQTT entity page lists. */
const common = {
  origin: originSchema.optional(),
  availability: z.array(availabilityEntry).min(1).optional(),
  availability_mode: z.enum(['all', 'any', 'latest']).optional(),
  availability_template: z.string().optional(),
  availability_topic: z.string().optional(),
  device: device.optional(),
  enabled_by_default: z.boolean().optional(),
  encoding: z.string().optional(),
  entity_picture: z.string().optional(),
  icon: z
    .string()
    .regex(/^[a-z]+:[a-z0-9-]+$/, 'an icon such as mdi:parking')
    .optional(),
  json_attributes_template: z.string().optional(),
  json_attributes_topic: z.string().optional(),
  name: z.string().nullable().optional(),
  object_id: z.string().optional(),
  payload_available: z.string().optional(),
  payload_not_available: z.string().optional(),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  unique_id: z.string().min(1).optional(),
  value_template: z.string().optional(),
};

/** Rules stated in prose on every page. */
function entityRules(c: {
  availability?: unknown;
  availability_topic?: unknown;
  device?: unknown;
  unique_id?: unknown;
}) {
  const problems: string[] = [];
  if (c.availability !== undefined && c.availability_topic !== undefined) {
    problems.push('availability must not be used together with availability_topic');
  }
  if (c.device !== undefined && c.unique_id === undefined) problems.push('device only works when unique_id is set');
  return problems;
}

function withRules<T extends z.ZodType<Record<string, unknown>>>(schema: T, extra?: (c: z.output<T>) => string[]) {
  return schema.superRefine((c, ctx) => {
    for (const message of [...entityRules(c), ...(extra?.(c) ?? [])]) ctx.addIssue({ code: 'custom', message });
  });
}

export const lockSchema = withRules(
  z
    .object({
      ...common,
      entity_category: z.enum(['config', 'diagnostic']).optional(),
      code_format: z.string().optional(),
      command_template: z.string().optional(),
      command_topic: z.string().min(1),
      optimistic: z.boolean().optional(),
      payload_lock: z.string().optional(),
      payload_open: z.string().optional(),
      payload_reset: z.string().optional(),
      payload_unlock: z.string().optional(),
      retain: z.boolean().optional(),
      state_jammed: z.string().optional(),
      state_locked: z.string().optional(),
      state_locking: z.string().optional(),
      state_topic: z.string().optional(),
      state_unlocked: z.string().optional(),
      state_unlocking: z.string().optional(),
    })
    .strict(),
);

/** Binary sensor device classes (binary_sensor/#device-class). */
export const BINARY_SENSOR_CLASSES = [
  'battery',
  'battery_charging',
  'carbon_monoxide',
  'cold',
  'connectivity',
  'door',
  'garage_door',
  'gas',
  'heat',
  'light',
  'lock',
  'moisture',
  'motion',
  'moving',
  'occupancy',
  'opening',
  'plug',
  'power',
  'presence',
  'problem',
  'running',
  'safety',
  'smoke',
  'sound',
  'tamper',
  'update',
  'vibration',
  'window',
] as const;

export const binarySensorSchema = withRules(
  z
    .object({
      ...common,
      // "When set, the entity category must be diagnostic for sensors."
      entity_category: z.literal('diagnostic').optional(),
      device_class: z.enum(BINARY_SENSOR_CLASSES).nullable().optional(),
      expire_after: z.number().int().positive().optional(),
      force_update: z.boolean().optional(),
      off_delay: z.number().int().positive().optional(),
      payload_off: z.string().optional(),
      payload_on: z.string().optional(),
      state_topic: z.string().min(1),
    })
    .strict(),
);

/** Sensor device classes and their allowed units (sensor/#device-class); null: a class without a unit. */
export const SENSOR_CLASS_UNITS: Record<string, ReadonlyArray<string | null>> = {
  apparent_power: ['VA'],
  aqi: [null],
  area: ['m²', 'cm²', 'km²', 'mm²', 'in²', 'ft²', 'yd²', 'mi²', 'ac', 'ha'],
  atmospheric_pressure: ['cbar', 'bar', 'hPa', 'mmHg', 'inHg', 'kPa', 'mbar', 'Pa', 'psi'],
  battery: ['%'],
  carbon_dioxide: ['ppm'],
  carbon_monoxide: ['ppm'],
  current: ['A', 'mA'],
  date: [null],
  distance: ['km', 'm', 'cm', 'mm', 'mi', 'nmi', 'yd', 'in'],
  duration: ['d', 'h', 'min', 's', 'ms'],
  enum: [null],
  frequency: ['Hz', 'kHz', 'MHz', 'GHz'],
  humidity: ['%'],
  illuminance: ['lx'],
  irradiance: ['W/m²', 'BTU/(h⋅ft²)'],
  moisture: ['%'],
  power_factor: [null, '%'],
  power: ['mW', 'W', 'kW', 'MW', 'GW', 'TW'],
  precipitation: ['cm', 'in', 'mm'],
  precipitation_intensity: ['in/d', 'in/h', 'mm/d', 'mm/h'],
  pressure: ['Pa', 'kPa', 'hPa', 'bar', 'cbar', 'mbar', 'mmHg', 'inHg', 'psi'],
  signal_strength: ['dB', 'dBm'],
  sound_pressure: ['dB', 'dBA'],
  speed: ['ft/s', 'in/d', 'in/h', 'in/s', 'km/h', 'kn', 'm/s', 'mph', 'mm/d', 'mm/s'],
  temperature: ['°C', '°F', 'K'],
  timestamp: [null],
  voltage: ['V', 'mV', 'µV', 'kV', 'MV'],
  weight: ['kg', 'g', 'mg', 'µg', 'oz', 'lb', 'st'],
  wind_speed: ['Beaufort', 'ft/s', 'km/h', 'kn', 'm/s', 'mph'],
};

export const sensorSchema = withRules(
  z
    .object({
      ...common,
      entity_category: z.literal('diagnostic').optional(),
      device_class: z
        .string()
        .refine((c) => c in SENSOR_CLASS_UNITS, 'not a sensor device class')
        .nullable()
        .optional(),
      expire_after: z.number().int().nonnegative().optional(),
      force_update: z.boolean().optional(),
      last_reset_value_template: z.string().optional(),
      options: z.array(z.string()).min(1).optional(),
      suggested_display_precision: z.number().int().nonnegative().optional(),
      state_class: z.enum(['measurement', 'total', 'total_increasing']).optional(),
      state_topic: z.string().min(1),
      unit_of_measurement: z.string().nullable().optional(),
    })
    .strict(),
  (c) => {
    const problems: string[] = [];
    const cls = c.device_class;
    if (cls) {
      const allowed = SENSOR_CLASS_UNITS[cls] ?? [];
      const unit = c.unit_of_measurement ?? null;
      if (!allowed.includes(unit)) problems.push(`unit ${String(unit)} is not allowed for device_class ${cls}`);
    }
    if (c.options !== undefined) {
      if (cls !== 'enum') problems.push("options need device_class 'enum'");
      if (c.state_class !== undefined || c.unit_of_measurement !== undefined) {
        problems.push('options cannot be used together with state_class or unit_of_measurement');
      }
    }
    if (c.last_reset_value_template !== undefined && c.state_class !== 'total') {
      problems.push('last_reset_value_template needs state_class total');
    }
    return problems;
  },
);

export const SCHEMAS = { lock: lockSchema, binary_sensor: binarySensorSchema, sensor: sensorSchema } as const;

/**
 * A device-based discovery payload: `dev` (the device) and `o` (the origin) are required, `cmps` maps each entity's
 * object id to its config with the platform in `p`; a component's config is the platform's entity config without a
 * device of its own, and needs a unique_id. Options shared by all components may sit at the top (availability,
 * state_topic, qos, encoding, command_topic).
 */
export const deviceDiscoverySchema = z
  .object({
    dev: device,
    o: originSchema,
    cmps: z
      .record(z.string().regex(/^[a-zA-Z0-9_-]+$/), z.record(z.string(), z.unknown()))
      .refine((c) => Object.keys(c).length > 0, 'at least one component'),
    availability: z.array(availabilityEntry).min(1).optional(),
    availability_mode: z.enum(['all', 'any', 'latest']).optional(),
    state_topic: z.string().optional(),
    command_topic: z.string().optional(),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
    encoding: z.string().optional(),
  })
  .strict()
  .superRefine((payload, ctx) => {
    for (const [key, cmp] of Object.entries(payload.cmps)) {
      const { p, ...entity } = cmp;
      if (typeof p !== 'string' || !(p in SCHEMAS)) {
        ctx.addIssue({ code: 'custom', message: `cmps.${key}: p must name a platform, got ${String(p)}` });
        continue;
      }
      if (entity.device !== undefined || entity.dev !== undefined) {
        ctx.addIssue({ code: 'custom', message: `cmps.${key}: the device belongs at the top (dev)` });
      }
      if (entity.unique_id === undefined) ctx.addIssue({ code: 'custom', message: `cmps.${key}: unique_id required` });
      const checked = SCHEMAS[p as keyof typeof SCHEMAS].safeParse(entity);
      if (!checked.success) ctx.addIssue({ code: 'custom', message: `cmps.${key}: ${checked.error.message}` });
    }
  });
