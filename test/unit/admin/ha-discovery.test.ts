import { describe, expect, it } from 'vitest';
import { deviceDiscovery } from '../../../src/admin/ha-device-discovery.js';
import {
  bayDiscovery,
  bridgeDiscovery,
  type DiscoveryContext,
  type DiscoveryMessage,
  discoveryFor,
  lockDiscovery,
  removalsFor,
  WEATHER_FIELDS,
  weatherDiscovery,
  zoneDiscovery,
} from '../../../src/admin/ha-discovery.js';
import { DEVICE_DISCOVERY_TOPIC, DISCOVERY_TOPIC, deviceDiscoverySchema, originSchema, SCHEMAS } from './ha-schema.js';

/** Payloads checked against Home Assistant's documented MQTT discovery schema (see ha-schema.ts for the pages). */

const ctx: DiscoveryContext = {
  gatewayId: 'gw-market',
  swVersion: '0.1.0',
  configurationUrl: 'http://127.0.0.1:8080/',
};

/** A town gateway: a public toilet, a bike garage door with a strike, a parking bay, a zone and a weather station. */
const toilet = discoveryFor(ctx, {
  id: 'wc-1',
  name: 'Toilet, market square',
  driver: 'toilet',
  area: 'Market square',
  events: ['lock.state', 'door.state', 'access.decision'],
  toilet: true,
  localControl: true,
});
const garage = discoveryFor(ctx, {
  id: 'bike-garage',
  driver: 'relay-lock',
  events: ['lock.state', 'door.state'],
  canOpen: true,
  localControl: true,
});
/** A lock whose local_mqtt_control is off (the default). */
const service = discoveryFor(ctx, {
  id: 'service-room',
  driver: 'gpio-relay-lock',
  events: ['lock.state', 'door.state'],
  canOpen: true,
});
const bay = discoveryFor(ctx, { id: 'bay-07', driver: 'nwave-nps405', events: ['parking.occupancy', 'device.health'] });
const zone = zoneDiscovery(ctx, { id: 'zone-north', name: 'North car park' });
const weather = discoveryFor(ctx, { id: 'wx-hall', driver: 'davis-vantage', events: ['weather.reading'] });
const bridge = bridgeDiscovery(ctx);
const ALL: DiscoveryMessage[] = [...bridge, ...toilet, ...garage, ...service, ...bay, ...zone, ...weather];

const byObject = (id: string): DiscoveryMessage => {
  const m = ALL.find((x) => x.objectId === id);
  if (!m) throw new Error(`no entity ${id}`);
  return m;
};

/** Normalized fields of DESIGN.md (Events) that each entity may read from the merged state. */
const STATE_FIELDS = new Set([
  'state',
  'locked',
  'occupied',
  'bay',
  'since',
  'battery_v',
  'temperature_c',
  'distance_m',
  'rssi_dbm',
  'zone',
  'capacity',
  'free',
  'humidity_pct',
  'pressure_hpa',
  'wind_speed_ms',
  'wind_gust_ms',
  'wind_dir_deg',
  'rain_mm',
  'rain_rate_mm_h',
  'uv_index',
  'solar_wm2',
  'dew_point_c',
  'battery_ok',
  'available',
]);

describe('every discovery payload matches Home Assistant’s documented schema', () => {
  it.each(ALL.map((m) => [m.objectId, m] as const))('%s', (_id, m) => {
    expect(m.topic).toMatch(DISCOVERY_TOPIC);
    expect(m.topic.split('/')[1]).toBe(m.component);
    const result = SCHEMAS[m.component].safeParse(m.config);
    expect(result.success ? [] : result.error.issues).toEqual([]);
  });

  it('uses each unique_id and each config topic once', () => {
    const ids = ALL.map((m) => m.config.unique_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ALL.map((m) => m.topic)).size).toBe(ALL.length);
  });

  it('reads only normalized state fields of DESIGN.md in its templates', () => {
    for (const m of ALL) {
      const templates = [
        m.config.value_template,
        ...((m.config.availability as Array<{ value_template?: string }> | undefined) ?? []).map(
          (a) => a.value_template,
        ),
      ].filter((t): t is string => typeof t === 'string');
      for (const t of templates) {
        for (const [, field] of t.matchAll(/value_json\.([a-z0-9_]+)/g)) expect(STATE_FIELDS).toContain(field);
      }
    }
  });
});

describe('the schema is strict enough to fail', () => {
  const lock = byObject('wc-1_lock').config;
  const temp = byObject('wx-hall_temperature_c').config;
  it.each([
    ['a misspelt key', SCHEMAS.lock, { ...lock, stat_topic: 'x' }],
    ['a lock without command_topic', SCHEMAS.lock, { ...lock, command_topic: undefined }],
    ['platform in a per-entity message', SCHEMAS.sensor, { ...temp, platform: 'sensor' }],
    ['a temperature in hPa', SCHEMAS.sensor, { ...temp, unit_of_measurement: 'hPa' }],
    ['an unknown sensor device class', SCHEMAS.sensor, { ...temp, device_class: 'rainfall' }],
    [
      'a binary sensor with a sensor-only class',
      SCHEMAS.binary_sensor,
      { ...byObject('wc-1_door').config, device_class: 'temperature' },
    ],
    ['a device without identifiers or connections', SCHEMAS.sensor, { ...temp, device: { name: 'x' } }],
    ['a device block without unique_id', SCHEMAS.sensor, { ...temp, unique_id: undefined }],
    [
      'availability together with availability_topic',
      SCHEMAS.sensor,
      { ...temp, availability_topic: 'portier/bridge/state' },
    ],
  ])('rejects %s', (_what, schema, payload) => {
    expect(schema.safeParse(payload).success).toBe(false);
  });
});

describe('locks', () => {
  it('is a lock entity with command and state topics, a value template and LOCK/UNLOCK payloads', () => {
    const m = byObject('wc-1_lock');
    expect(m.topic).toBe('homeassistant/lock/gw-market/wc-1_lock/config');
    expect(m.config).toMatchObject({
      unique_id: 'portier_gw-market_wc-1_lock',
      command_topic: 'portier/wc-1/set',
      state_topic: 'portier/wc-1/state',
      payload_lock: 'LOCK',
      payload_unlock: 'UNLOCK',
      state_locked: 'LOCKED',
      state_unlocked: 'UNLOCKED',
    });
    expect(m.config.value_template).toContain('value_json.locked');
    expect(m.config.payload_open).toBeUndefined();
  });

  it('sends commands with QoS 1 and never retained (a retained UNLOCK would reopen the door on reconnect)', () => {
    for (const m of ALL.filter((x) => x.component === 'lock')) {
      expect(m.config).toMatchObject({ qos: 1, retain: false, optimistic: false });
    }
  });

  it('offers OPEN only for a lock that can be opened momentarily', () => {
    expect(byObject('bike-garage_lock').config.payload_open).toBe('OPEN');
  });

  it('makes a lock without local control a read-only lock sensor with no command topic', () => {
    expect(service.map((m) => m.objectId)).not.toContain('service-room_lock');
    const m = byObject('service-room_lock_state');
    expect(m.topic).toBe('homeassistant/binary_sensor/gw-market/service-room_lock_state/config');
    // Home Assistant's binary sensor class `lock`: on means unlocked.
    expect(m.config).toMatchObject({ device_class: 'lock', state_topic: 'portier/service-room/state' });
    expect(m.config.value_template).toContain('value_json.locked');
    for (const e of service)
      expect(JSON.stringify(e.config)).not.toMatch(/command_topic|payload_(un)?lock|payload_open/);
  });
});

describe('doors, toilets, bays and zones', () => {
  it('gives a door a door sensor and a problem sensor for held-open or forced', () => {
    expect(byObject('bike-garage_door').config).toMatchObject({
      device_class: 'door',
      state_topic: 'portier/bike-garage/state',
    });
    expect(byObject('bike-garage_door_alarm').config.device_class).toBe('problem');
    expect(byObject('bike-garage_door_alarm').config.value_template).toContain("['held_open', 'forced']");
    expect(garage.some((m) => m.objectId.endsWith('occupancy'))).toBe(false);
  });

  it('gives a toilet an occupancy sensor as well', () => {
    expect(byObject('wc-1_occupancy').config).toMatchObject({
      device_class: 'occupancy',
      state_topic: 'portier/wc-1/state',
    });
    expect(byObject('wc-1_occupancy').component).toBe('binary_sensor');
  });

  it('gives a parking bay an occupancy binary sensor and diagnostic readings', () => {
    expect(byObject('bay-07_occupancy')).toMatchObject({
      component: 'binary_sensor',
      config: { device_class: 'occupancy' },
    });
    expect(byObject('bay-07_battery_v').config).toMatchObject({
      device_class: 'voltage',
      unit_of_measurement: 'V',
      entity_category: 'diagnostic',
    });
    expect(byObject('bay-07_rssi_dbm').config).toMatchObject({
      device_class: 'signal_strength',
      unit_of_measurement: 'dBm',
    });
    expect(bay.some((m) => m.component === 'lock')).toBe(false);
  });

  it('gives a zone a free-bay count sensor', () => {
    expect(byObject('zone-north_free')).toMatchObject({
      component: 'sensor',
      config: { state_topic: 'portier/zone-north/state', state_class: 'measurement', name: 'Free bays' },
    });
    expect(byObject('zone-north_free').config.value_template).toContain('value_json.free');
    expect((byObject('zone-north_free').config.device as Record<string, unknown>).name).toBe('North car park');
  });
});

describe('weather', () => {
  it.each([
    ['temperature_c', 'temperature', '°C'],
    ['humidity_pct', 'humidity', '%'],
    ['pressure_hpa', 'atmospheric_pressure', 'hPa'],
    ['wind_speed_ms', 'wind_speed', 'm/s'],
    ['wind_gust_ms', 'wind_speed', 'm/s'],
    ['rain_mm', 'precipitation', 'mm'],
    ['rain_rate_mm_h', 'precipitation_intensity', 'mm/h'],
    ['solar_wm2', 'irradiance', 'W/m²'],
    ['dew_point_c', 'temperature', '°C'],
  ])('%s is a %s sensor in %s', (field, deviceClass, unit) => {
    expect(byObject(`wx-hall_${field}`).config).toMatchObject({ device_class: deviceClass, unit_of_measurement: unit });
  });

  it('counts rain as total_increasing (the station’s counter resets) and the rest as measurements', () => {
    expect(byObject('wx-hall_rain_mm').config.state_class).toBe('total_increasing');
    expect(byObject('wx-hall_temperature_c').config.state_class).toBe('measurement');
  });

  it('reports a low battery as a battery binary sensor that is on when battery_ok is false', () => {
    expect(byObject('wx-hall_battery_low')).toMatchObject({
      component: 'binary_sensor',
      config: { device_class: 'battery', entity_category: 'diagnostic' },
    });
    expect(byObject('wx-hall_battery_low').config.value_template).toBe(
      "{% if value_json.battery_ok is defined %}{{ 'OFF' if value_json.battery_ok else 'ON' }}{% endif %}",
    );
  });

  it('publishes one entity per field, or only the fields a station reports', () => {
    expect(weather).toHaveLength(WEATHER_FIELDS.length);
    const some = weatherDiscovery(ctx, {
      id: 'wx-2',
      driver: 'rtl433',
      events: ['weather.reading'],
      weatherFields: ['temperature_c', 'humidity_pct'],
    });
    expect(some.map((m) => m.objectId)).toEqual(['wx-2_temperature_c', 'wx-2_humidity_pct']);
  });
});

describe('availability, device blocks and topics', () => {
  it('makes every device entity depend on portier/bridge/state and the device’s own availability', () => {
    for (const m of ALL.filter((x) => x !== bridge[0])) {
      expect(m.config.availability_mode).toBe('all');
      const topics = (m.config.availability as Array<{ topic: string }>).map((a) => a.topic);
      expect(topics[0]).toBe('portier/bridge/state');
      expect(topics[1]).toMatch(/^portier\/[a-z0-9_-]+\/state$/);
    }
  });

  it('hangs every device from the gateway device, which the bridge connectivity sensor creates', () => {
    const gw = bridge[0]!.config;
    expect(gw).toMatchObject({
      state_topic: 'portier/bridge/state',
      payload_on: 'online',
      payload_off: 'offline',
      device_class: 'connectivity',
      device: { identifiers: ['portier_gw-market'], sw_version: '0.1.0', configuration_url: 'http://127.0.0.1:8080/' },
    });
    for (const m of ALL.filter((x) => x !== bridge[0])) {
      expect(m.config.device).toMatchObject({ via_device: 'portier_gw-market', manufacturer: 'Portier' });
    }
    expect(byObject('wc-1_lock').config.device).toMatchObject({
      identifiers: ['portier_gw-market_wc-1'],
      name: 'Toilet, market square',
      model: 'toilet',
      suggested_area: 'Market square',
    });
  });

  it('follows a configured base topic and discovery prefix', () => {
    const [m] = lockDiscovery(
      { gatewayId: 'gw2', baseTopic: 'town', discoveryPrefix: 'ha' },
      {
        id: 'door-1',
        driver: 'relay-lock',
        events: ['lock.state'],
        localControl: true,
      },
    );
    expect(m).toMatchObject({
      topic: 'ha/lock/gw2/door-1_lock/config',
      config: { command_topic: 'town/door-1/set', state_topic: 'town/door-1/state' },
    });
    expect((m!.config.availability as Array<{ topic: string }>)[0]!.topic).toBe('town/bridge/state');
  });

  it('removes entities with an empty payload on the same config topics', () => {
    expect(removalsFor(bay)).toEqual(bay.map((m) => ({ topic: m.topic, payload: '' })));
  });

  it('creates nothing for a device whose events Home Assistant has no entity for', () => {
    expect(discoveryFor(ctx, { id: 'qr-1', driver: 'qr-reader', events: ['access.decision'] })).toEqual([]);
    expect(bayDiscovery(ctx, { id: 'b', driver: 'x', events: [] }).length).toBeGreaterThan(0);
  });
});

describe('origin and device-based discovery (HA 2024.11+)', () => {
  const devices = [bridge, toilet, garage, service, bay, zone, weather].map(
    (entities) => deviceDiscovery(ctx, entities)!,
  );

  it('carries the origin block (name, sw_version, support_url) on every payload', () => {
    const origin = { name: 'Portier', sw_version: '0.1.0', support_url: 'http://127.0.0.1:8080/' };
    for (const m of ALL) expect(m.config.origin).toEqual(origin);
    for (const d of devices) expect(d.config.o).toEqual(origin);
    expect(originSchema.safeParse(devices[0]!.config.o).success).toBe(true);
    // An explicit support URL wins over the dashboard's; without either only the name is required.
    expect(deviceDiscovery({ ...ctx, supportUrl: 'https://help.example.org/portier' }, bay)!.config.o.support_url).toBe(
      'https://help.example.org/portier',
    );
    expect(deviceDiscovery({ gatewayId: 'gw' }, bridgeDiscovery({ gatewayId: 'gw' }))!.config.o).toEqual({
      name: 'Portier',
    });
  });

  it.each(devices.map((d) => [d.topic, d] as const))('%s matches the documented device discovery payload', (_t, d) => {
    expect(d.topic).toMatch(DEVICE_DISCOVERY_TOPIC);
    const result = deviceDiscoverySchema.safeParse(d.config);
    expect(result.success ? [] : result.error.issues).toEqual([]);
  });

  it('puts one device per topic with all its entities as components, unique_ids unchanged', () => {
    const toiletDevice = devices[1]!;
    expect(toiletDevice.topic).toBe('homeassistant/device/portier_gw-market_wc-1/config');
    expect(toiletDevice.config.dev).toMatchObject({
      identifiers: ['portier_gw-market_wc-1'],
      name: 'Toilet, market square',
    });
    expect(Object.keys(toiletDevice.config.cmps)).toEqual(toilet.map((m) => m.objectId));
    expect(toiletDevice.config.cmps['wc-1_lock']).toMatchObject({
      p: 'lock',
      unique_id: 'portier_gw-market_wc-1_lock',
      command_topic: 'portier/wc-1/set',
    });
    expect(toiletDevice.entityTopics).toEqual(toilet.map((m) => m.topic));
    const ids = devices.flatMap((d) => Object.values(d.config.cmps).map((c) => c.unique_id));
    expect(ids.sort()).toEqual(ALL.map((m) => m.config.unique_id).sort());
    expect(new Set(devices.map((d) => d.topic)).size).toBe(devices.length);
  });

  it('keeps availability per component and no command topic for a lock without local control', () => {
    for (const d of devices.slice(1)) {
      for (const c of Object.values(d.config.cmps)) expect(c.availability_mode).toBe('all');
    }
    const svc = devices[3]!.config.cmps;
    expect(Object.values(svc).map((c) => c.p)).not.toContain('lock');
    expect(JSON.stringify(svc)).not.toContain('command_topic');
  });

  it('is checked by that schema: a component without platform or unique_id, or without origin, fails', () => {
    const d = structuredClone(devices[4]!.config);
    const first = Object.keys(d.cmps)[0]!;
    expect(deviceDiscoverySchema.safeParse({ ...d, o: undefined }).success).toBe(false);
    expect(
      deviceDiscoverySchema.safeParse({ ...d, cmps: { [first]: { ...d.cmps[first], p: undefined } } }).success,
    ).toBe(false);
    expect(
      deviceDiscoverySchema.safeParse({ ...d, cmps: { [first]: { ...d.cmps[first], unique_id: undefined } } }).success,
    ).toBe(false);
    expect(
      deviceDiscoverySchema.safeParse({ ...d, cmps: { [first]: { ...d.cmps[first], device: d.dev } } }).success,
    ).toBe(false);
    expect(deviceDiscovery(ctx, [])).toBeUndefined();
    expect(() => deviceDiscovery(ctx, [...toilet, ...bay])).toThrow(/another device/);
  });
});
