import type { EventType } from '../core/events.js';
import {
  BAY_SENSORS,
  boolTemplate,
  doorStateTemplate,
  fieldTemplate,
  type SensorSpec,
  WEATHER_FIELDS,
  WEATHER_SENSORS,
  type WeatherField,
} from './ha-sensors.js';

export { WEATHER_FIELDS, WEATHER_SENSORS, type WeatherField };

/**
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery): one retained
 * JSON config per entity on `<prefix>/<component>/<node_id>/<object_id>/config`, where node_id is the gateway id.
 * Pure builders: the caller publishes `JSON.stringify(config)` retained, and an empty retained payload on the same
 * topic to remove the entity (when a device is removed).
 *
 * Every entity reads the device's retained, merged state (`<base>/<device>/state`, see src/sync/local.ts) with a
 * value_template over the normalized field names of DESIGN.md (Events). A template renders an empty string when
 * the field is absent, which Home Assistant ignores, so one reading without a field does not blank the entity.
 * Entities are available only while the bridge is online and the device is up (`available` in its state).
 */

export type HaComponent = 'lock' | 'binary_sensor' | 'sensor';

export interface DiscoveryContext {
  /** Gateway id: the discovery node_id and part of every unique_id. */
  gatewayId: string;
  /** Local MQTT base topic, default `portier`. */
  baseTopic?: string;
  /** Home Assistant's discovery prefix, default `homeassistant`. */
  discoveryPrefix?: string;
  /** Portier version, shown on the gateway's device page. */
  swVersion?: string;
  /** URL of the local dashboard, linked from Home Assistant's device page. */
  configurationUrl?: string;
  /** Where to get help with Portier: the discovery `origin`'s support_url (default: configurationUrl). */
  supportUrl?: string;
}

/** What discovery needs to know about a Portier device. */
export interface DiscoverySubject {
  id: string;
  name?: string;
  /** Driver id, shown as the model. */
  driver: string;
  /** Suggested Home Assistant area (e.g. "Market square"). */
  area?: string;
  /** The events its driver declares; they decide which entities it gets. */
  events: readonly EventType[];
  /** A public toilet: its door.state carries `occupied`. */
  toilet?: boolean;
  /** The lock can be opened momentarily (a strike pulse), not only locked and unlocked. */
  canOpen?: boolean;
  /**
   * The lock takes commands on `<base>/<device>/set` (its `local_mqtt_control` setting). Without it the lock is a
   * read-only binary sensor: Home Assistant gets no command topic to publish on.
   */
  localControl?: boolean;
  /** Weather fields the station reports; default all of WEATHER_FIELDS. */
  weatherFields?: readonly WeatherField[];
}

export interface DiscoveryMessage {
  topic: string;
  component: HaComponent;
  objectId: string;
  /** The discovery payload; publish as JSON with retain. */
  config: Record<string, unknown>;
}

export const DEFAULT_DISCOVERY_PREFIX = 'homeassistant';
export const DEFAULT_BASE_TOPIC = 'portier';

/** Command payloads on `<base>/<device>/set` (Home Assistant's defaults). */
export const LOCK_PAYLOADS = { lock: 'LOCK', unlock: 'UNLOCK', open: 'OPEN' } as const;

function names(ctx: DiscoveryContext) {
  return {
    base: ctx.baseTopic ?? DEFAULT_BASE_TOPIC,
    prefix: ctx.discoveryPrefix ?? DEFAULT_DISCOVERY_PREFIX,
    gatewayIdentifier: `portier_${ctx.gatewayId}`,
  };
}

function gatewayDevice(ctx: DiscoveryContext): Record<string, unknown> {
  const device: Record<string, unknown> = {
    identifiers: [names(ctx).gatewayIdentifier],
    name: `Portier ${ctx.gatewayId}`,
    manufacturer: 'Portier',
    model: 'Portier gateway',
  };
  if (ctx.swVersion) device.sw_version = ctx.swVersion;
  if (ctx.configurationUrl) device.configuration_url = ctx.configurationUrl;
  return device;
}

function subjectDevice(ctx: DiscoveryContext, s: { id: string; name?: string; model: string; area?: string }) {
  const device: Record<string, unknown> = {
    identifiers: [`${names(ctx).gatewayIdentifier}_${s.id}`],
    name: s.name ?? s.id,
    manufacturer: 'Portier',
    model: s.model,
    via_device: names(ctx).gatewayIdentifier,
  };
  if (s.area) device.suggested_area = s.area;
  if (ctx.configurationUrl) device.configuration_url = ctx.configurationUrl;
  return device;
}

/** Available while the bridge is online and the device is up (`available` false after a device.health down). */
function availability(ctx: DiscoveryContext, deviceId: string): Record<string, unknown> {
  const { base } = names(ctx);
  return {
    availability: [
      { topic: `${base}/bridge/state` },
      {
        topic: `${base}/${deviceId}/state`,
        value_template: "{{ 'offline' if value_json.available is defined and not value_json.available else 'online' }}",
      },
    ],
    availability_mode: 'all',
  };
}

/**
 * The `origin` block Home Assistant asks every discovery payload to carry (name, sw_version, support_url; shown in
 * its logs and on the MQTT info page of a device).
 */
export function originOf(ctx: DiscoveryContext): Record<string, string> {
  const origin: Record<string, string> = { name: 'Portier' };
  if (ctx.swVersion) origin.sw_version = ctx.swVersion;
  const support = ctx.supportUrl ?? ctx.configurationUrl;
  if (support) origin.support_url = support;
  return origin;
}

function message(
  ctx: DiscoveryContext,
  component: HaComponent,
  deviceId: string,
  key: string,
  config: Record<string, unknown>,
): DiscoveryMessage {
  const { prefix, gatewayIdentifier } = names(ctx);
  const objectId = `${deviceId}_${key}`;
  return {
    topic: `${prefix}/${component}/${ctx.gatewayId}/${objectId}/config`,
    component,
    objectId,
    config: { unique_id: `${gatewayIdentifier}_${objectId}`, ...config, origin: originOf(ctx) },
  };
}

function sensorConfig(spec: SensorSpec, stateTopic: string, field: string): Record<string, unknown> {
  const config: Record<string, unknown> = {
    name: spec.name,
    state_topic: stateTopic,
    value_template: fieldTemplate(field),
  };
  if (spec.deviceClass) config.device_class = spec.deviceClass;
  if (spec.unit) config.unit_of_measurement = spec.unit;
  if (spec.stateClass) config.state_class = spec.stateClass;
  if (spec.precision !== undefined) config.suggested_display_precision = spec.precision;
  if (spec.icon) config.icon = spec.icon;
  if (spec.diagnostic) config.entity_category = 'diagnostic';
  return config;
}

/** The gateway itself: a connectivity sensor on the bridge state, and the device the others hang from. */
export function bridgeDiscovery(ctx: DiscoveryContext): DiscoveryMessage[] {
  const { base } = names(ctx);
  return [
    message(ctx, 'binary_sensor', 'bridge', 'connectivity', {
      name: 'Connection',
      state_topic: `${base}/bridge/state`,
      payload_on: 'online',
      payload_off: 'offline',
      device_class: 'connectivity',
      entity_category: 'diagnostic',
      device: gatewayDevice(ctx),
    }),
  ];
}

/**
 * A lock entity commanded on `<base>/<device>/set` when the lock enables local control; commands are QoS 1 and
 * never retained: a retained UNLOCK would open the door again whenever the gateway reconnects. Otherwise a
 * read-only binary sensor of device class `lock` (on = unlocked), with no command topic at all.
 */
export function lockDiscovery(ctx: DiscoveryContext, s: DiscoverySubject): DiscoveryMessage[] {
  const { base } = names(ctx);
  if (!s.localControl) {
    return [
      message(ctx, 'binary_sensor', s.id, 'lock_state', {
        name: 'Lock',
        device_class: 'lock',
        state_topic: `${base}/${s.id}/state`,
        value_template: boolTemplate('locked', { invert: true }),
        ...availability(ctx, s.id),
        device: subjectDevice(ctx, { ...s, model: s.driver }),
      }),
    ];
  }
  const config: Record<string, unknown> = {
    name: null,
    command_topic: `${base}/${s.id}/set`,
    state_topic: `${base}/${s.id}/state`,
    value_template: `{% if value_json.locked is defined %}{{ 'LOCKED' if value_json.locked else 'UNLOCKED' }}{% endif %}`,
    payload_lock: LOCK_PAYLOADS.lock,
    payload_unlock: LOCK_PAYLOADS.unlock,
    state_locked: 'LOCKED',
    state_unlocked: 'UNLOCKED',
    optimistic: false,
    qos: 1,
    retain: false,
    ...availability(ctx, s.id),
    device: subjectDevice(ctx, { ...s, model: s.driver }),
  };
  if (s.canOpen) config.payload_open = LOCK_PAYLOADS.open;
  return [message(ctx, 'lock', s.id, 'lock', config)];
}

/** A door contact (on = open), a door alarm (held open or forced), and for toilets an occupancy sensor. */
export function doorDiscovery(ctx: DiscoveryContext, s: DiscoverySubject): DiscoveryMessage[] {
  const { base } = names(ctx);
  const stateTopic = `${base}/${s.id}/state`;
  const common = {
    state_topic: stateTopic,
    ...availability(ctx, s.id),
    device: subjectDevice(ctx, { ...s, model: s.driver }),
  };
  const out = [
    message(ctx, 'binary_sensor', s.id, 'door', {
      name: 'Door',
      device_class: 'door',
      value_template: doorStateTemplate(['open', 'held_open', 'forced']),
      ...common,
    }),
    message(ctx, 'binary_sensor', s.id, 'door_alarm', {
      name: 'Door alarm',
      device_class: 'problem',
      value_template: doorStateTemplate(['held_open', 'forced']),
      ...common,
    }),
  ];
  if (s.toilet) {
    out.push(
      message(ctx, 'binary_sensor', s.id, 'occupancy', {
        name: 'Occupied',
        device_class: 'occupancy',
        value_template: boolTemplate('occupied'),
        ...common,
      }),
    );
  }
  return out;
}

/** A parking bay sensor: occupancy, plus its battery, temperature, distance and signal as diagnostics. */
export function bayDiscovery(ctx: DiscoveryContext, s: DiscoverySubject): DiscoveryMessage[] {
  const { base } = names(ctx);
  const stateTopic = `${base}/${s.id}/state`;
  const common = { ...availability(ctx, s.id), device: subjectDevice(ctx, { ...s, model: s.driver }) };
  return [
    message(ctx, 'binary_sensor', s.id, 'occupancy', {
      name: 'Occupied',
      device_class: 'occupancy',
      state_topic: stateTopic,
      value_template: boolTemplate('occupied'),
      ...common,
    }),
    ...Object.entries(BAY_SENSORS).map(([field, spec]) =>
      message(ctx, 'sensor', s.id, field, { ...sensorConfig(spec, stateTopic, field), ...common }),
    ),
  ];
}

/** A parking zone (parking.zone events of device `zone.id`): free and occupied bay counts. */
export function zoneDiscovery(
  ctx: DiscoveryContext,
  zone: { id: string; name?: string; area?: string },
): DiscoveryMessage[] {
  const { base } = names(ctx);
  const stateTopic = `${base}/${zone.id}/state`;
  const common = {
    ...availability(ctx, zone.id),
    device: subjectDevice(ctx, {
      id: zone.id,
      model: 'Parking zone',
      ...(zone.name ? { name: zone.name } : {}),
      ...(zone.area ? { area: zone.area } : {}),
    }),
  };
  return [
    message(ctx, 'sensor', zone.id, 'free', {
      ...sensorConfig(
        { name: 'Free bays', stateClass: 'measurement', precision: 0, icon: 'mdi:parking' },
        stateTopic,
        'free',
      ),
      ...common,
    }),
    message(ctx, 'sensor', zone.id, 'occupied', {
      ...sensorConfig(
        { name: 'Occupied bays', stateClass: 'measurement', precision: 0, icon: 'mdi:car' },
        stateTopic,
        'occupied',
      ),
      ...common,
    }),
  ];
}

/** A weather station: one sensor per reported field, and a low-battery sensor (on = low). */
export function weatherDiscovery(ctx: DiscoveryContext, s: DiscoverySubject): DiscoveryMessage[] {
  const { base } = names(ctx);
  const stateTopic = `${base}/${s.id}/state`;
  const common = { ...availability(ctx, s.id), device: subjectDevice(ctx, { ...s, model: s.driver }) };
  const out: DiscoveryMessage[] = [];
  for (const field of s.weatherFields ?? WEATHER_FIELDS) {
    if (field === 'battery_ok') {
      out.push(
        message(ctx, 'binary_sensor', s.id, 'battery_low', {
          name: 'Battery low',
          device_class: 'battery',
          state_topic: stateTopic,
          value_template: boolTemplate('battery_ok', { invert: true }),
          entity_category: 'diagnostic',
          ...common,
        }),
      );
    } else {
      out.push(
        message(ctx, 'sensor', s.id, field, { ...sensorConfig(WEATHER_SENSORS[field], stateTopic, field), ...common }),
      );
    }
  }
  return out;
}

/** Every entity of a device, chosen by the events its driver declares. */
export function discoveryFor(ctx: DiscoveryContext, s: DiscoverySubject): DiscoveryMessage[] {
  const out: DiscoveryMessage[] = [];
  if (s.events.includes('lock.state')) out.push(...lockDiscovery(ctx, s));
  if (s.events.includes('door.state')) out.push(...doorDiscovery(ctx, s));
  if (s.events.includes('parking.occupancy')) out.push(...bayDiscovery(ctx, s));
  if (s.events.includes('weather.reading')) out.push(...weatherDiscovery(ctx, s));
  return out;
}

/** The messages that remove entities from Home Assistant: an empty retained payload on each config topic. */
export function removalsFor(messages: readonly DiscoveryMessage[]): Array<{ topic: string; payload: '' }> {
  return messages.map((m) => ({ topic: m.topic, payload: '' as const }));
}
