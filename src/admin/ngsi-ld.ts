/**
 * NGSI-LD entities of the gateway's parking bays, zones and weather stations, following the FIWARE Smart Data
 * Models `ParkingSpot`, `OffStreetParking` and `WeatherObserved` (the models German cities' FIWARE platforms read,
 * DIN SPEC 91357). Pure: the caller hands in each source's merged state and settings.
 *
 * Entities are built in the normalized form (ETSI GS CIM 009: `{type:"Property", value, observedAt}`,
 * `{type:"Relationship", object}`, `{type:"GeoProperty", value}`; DateTime values as `{"@type":"DateTime",
 * "@value"}` as the models' normalized examples write them) and simplified to key-values by {@link toKeyValues}.
 *
 * Why these models: a ParkingSpot needs `refParkingSite` (an OffStreetParking or OnStreetParking), and a
 * ParkingGroup needs one too, so a zone is published as the site itself, an OffStreetParking (required: id, type,
 * location), and its bays refer to it. Every model requires a `location`: a source without coordinates
 * (`latitude`/`longitude` in its settings; a bay may take its zone's) is not published.
 */

/** The JSON-LD contexts written into every entity (nothing is fetched). */
export const NGSI_LD_CORE_CONTEXT = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld';
export const PARKING_CONTEXT =
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld';
export const WEATHER_CONTEXT =
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Weather/master/context.jsonld';

export type NgsiLdType = 'ParkingSpot' | 'OffStreetParking' | 'WeatherObserved';
export const NGSI_LD_TYPES: readonly NgsiLdType[] = ['ParkingSpot', 'OffStreetParking', 'WeatherObserved'];

/** A normalized entity: id, type, @context and attributes. */
export interface NgsiLdEntity {
  id: string;
  type: NgsiLdType;
  '@context': string[];
  [attr: string]: unknown;
}

/** Where a source is, from its settings (WGS84 degrees). */
export interface GeoPoint {
  latitude: number;
  longitude: number;
}

export function entityId(type: NgsiLdType, gatewayId: string, sourceId: string): string {
  return `urn:ngsi-ld:${type}:${gatewayId}:${sourceId}`;
}

/** The coordinates in a device's settings, when both are numbers. */
export function pointOf(settings: Record<string, unknown> | undefined): GeoPoint | undefined {
  const lat = settings?.latitude;
  const lon = settings?.longitude;
  return typeof lat === 'number' && typeof lon === 'number' ? { latitude: lat, longitude: lon } : undefined;
}

const prop = (value: unknown, observedAt?: string) =>
  observedAt === undefined ? { type: 'Property', value } : { type: 'Property', value, observedAt };
const rel = (object: string) => ({ type: 'Relationship', object });
const dateTime = (iso: string) => ({ type: 'Property', value: { '@type': 'DateTime', '@value': iso } });
/** GeoJSON writes longitude first. */
const geo = (p: GeoPoint) => ({
  type: 'GeoProperty',
  value: { type: 'Point', coordinates: [p.longitude, p.latitude] },
});

function base(type: NgsiLdType, id: string, context: string, name: string | undefined): NgsiLdEntity {
  const e: NgsiLdEntity = { id, type, '@context': [context, NGSI_LD_CORE_CONTEXT] };
  if (name !== undefined) e.name = prop(name);
  return e;
}

export interface BaySource {
  gatewayId: string;
  id: string;
  name?: string | undefined;
  /** The zone (parking-zone device id) the bay belongs to. */
  zone: string;
  location: GeoPoint;
  /** The merged state of its parking.occupancy and device.health events. */
  state: Record<string, unknown>;
  /** ISO time of the latest state event. */
  ts: string;
}

/** ParkingSpot: `status` free/occupied, or unknown while the sensor is down or has not reported. */
export function parkingSpot(b: BaySource): NgsiLdEntity {
  const e = base('ParkingSpot', entityId('ParkingSpot', b.gatewayId, b.id), PARKING_CONTEXT, b.name);
  const status =
    b.state.available === false || typeof b.state.occupied !== 'boolean'
      ? 'unknown'
      : b.state.occupied
        ? 'occupied'
        : 'free';
  e.status = prop(status, b.ts);
  // The site it refers to is an OffStreetParking (the zone), so the spot belongs to an off-street site.
  e.category = prop(['offStreet']);
  e.refParkingSite = rel(entityId('OffStreetParking', b.gatewayId, b.zone));
  e.location = geo(b.location);
  return e;
}

export interface ZoneSource {
  gatewayId: string;
  id: string;
  name?: string | undefined;
  location: GeoPoint;
  /** The latest parking.zone event's data: capacity, occupied, free. */
  state: Record<string, unknown>;
  ts: string;
}

const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;

/**
 * OffStreetParking: totalSpotNumber (capacity), availableSpotNumber (spaces the gateway vouches for as free),
 * occupiedSpotNumber, occupancy (0-1) and status (spacesAvailable/full, DATEX II's enumeration), measured by
 * singleSpaceDetection. Counts and status are left out while no bay of the zone has a known state.
 */
export function offStreetParking(z: ZoneSource): NgsiLdEntity {
  const e = base('OffStreetParking', entityId('OffStreetParking', z.gatewayId, z.id), PARKING_CONTEXT, z.name);
  e.location = geo(z.location);
  e.occupancyDetectionType = prop(['singleSpaceDetection']);
  const capacity = count(z.state.capacity);
  const occupied = count(z.state.occupied);
  const free = count(z.state.free);
  if (capacity !== undefined && capacity >= 1) e.totalSpotNumber = prop(capacity);
  if (capacity !== undefined && capacity >= 1 && occupied !== undefined && free !== undefined && occupied + free > 0) {
    e.availableSpotNumber = prop(Math.min(free, capacity), z.ts);
    e.occupiedSpotNumber = prop(Math.min(occupied, capacity), z.ts);
    e.occupancy = prop(Math.min(1, Math.round((occupied / capacity) * 1000) / 1000), z.ts);
    e.status = prop([free > 0 ? 'spacesAvailable' : 'full'], z.ts);
    e.occupancyModified = dateTime(z.ts);
  }
  return e;
}

export interface WeatherSource {
  gatewayId: string;
  id: string;
  name?: string | undefined;
  location: GeoPoint;
  /** The merged fields of the station's weather.reading events (SI, DESIGN.md's names). */
  state: Record<string, unknown>;
  ts: string;
  /** mm fallen in the latest aggregation window, with the window's end (the raw rain_mm is a device counter). */
  rain?: { mm: number; at: string } | undefined;
}

/** weather.reading field → WeatherObserved attribute, with the unit change (humidity % → 0-1). */
const WEATHER_MAP: ReadonlyArray<[string, string, (v: number) => number]> = [
  ['temperature_c', 'temperature', (v) => v],
  ['humidity_pct', 'relativeHumidity', (v) => Math.round(v * 10) / 1000],
  ['pressure_hpa', 'atmosphericPressure', (v) => v],
  ['wind_speed_ms', 'windSpeed', (v) => v],
  ['wind_dir_deg', 'windDirection', (v) => v],
  ['dew_point_c', 'dewPoint', (v) => v],
  ['solar_wm2', 'solarRadiation', (v) => v],
];

/**
 * WeatherObserved in the model's units: temperature and dewPoint °C, relativeHumidity 0-1, atmosphericPressure hPa,
 * windSpeed m/s, windDirection degrees, solarRadiation W/m², precipitation l/m² (= mm) of the latest window.
 */
export function weatherObserved(w: WeatherSource): NgsiLdEntity {
  const e = base('WeatherObserved', entityId('WeatherObserved', w.gatewayId, w.id), WEATHER_CONTEXT, w.name);
  e.dateObserved = dateTime(w.ts);
  e.location = geo(w.location);
  for (const [field, attr, convert] of WEATHER_MAP) {
    const v = w.state[field];
    if (typeof v === 'number' && Number.isFinite(v)) e[attr] = prop(convert(v), w.ts);
  }
  if (w.rain) e.precipitation = prop(w.rain.mm, w.rain.at);
  return e;
}

/**
 * The key-values (simplified) form of a normalized entity: each Property becomes its value (a DateTime its ISO
 * text, as the models' key-values examples write it), a Relationship its object, a GeoProperty its GeoJSON.
 */
export function toKeyValues(e: NgsiLdEntity): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === 'id' || k === 'type' || k === '@context' || typeof v !== 'object' || v === null) {
      out[k] = v;
      continue;
    }
    const a = v as { type?: string; value?: unknown; object?: unknown };
    const value = a.type === 'Relationship' ? a.object : a.value;
    const dt = value as { '@type'?: string; '@value'?: unknown } | null;
    out[k] = dt && typeof dt === 'object' && dt['@type'] === 'DateTime' ? dt['@value'] : value;
  }
  return out;
}
