/**
 * The sensors Home Assistant gets for Portier's readings (device classes and units from Home Assistant's sensor
 * device classes) and the value templates that read them from a device's retained state. Used by ha-discovery.ts.
 */

/** How a numeric field becomes a sensor: device class and unit from Home Assistant's sensor device classes. */
export interface SensorSpec {
  name: string;
  deviceClass?: string;
  unit?: string;
  stateClass?: 'measurement' | 'total' | 'total_increasing';
  precision?: number;
  icon?: string;
  diagnostic?: boolean;
}

/** A `measurement` sensor spec, one line per field in the tables below. */
function measure(
  name: string,
  deviceClass: string | undefined,
  unit: string,
  precision: number,
  extra: Partial<SensorSpec> = {},
): SensorSpec {
  return { name, ...(deviceClass ? { deviceClass } : {}), unit, stateClass: 'measurement', precision, ...extra };
}

/** weather.reading fields (DESIGN.md, SI units) and the sensor each becomes. */
export const WEATHER_SENSORS = {
  temperature_c: measure('Temperature', 'temperature', '°C', 1),
  humidity_pct: measure('Humidity', 'humidity', '%', 0),
  pressure_hpa: measure('Pressure', 'atmospheric_pressure', 'hPa', 1),
  wind_speed_ms: measure('Wind speed', 'wind_speed', 'm/s', 1),
  wind_gust_ms: measure('Wind gust', 'wind_speed', 'm/s', 1),
  // No device class: wind_direction is newer than the Home Assistant releases this targets; degrees still chart.
  wind_dir_deg: measure('Wind direction', undefined, '°', 0, { icon: 'mdi:compass' }),
  // Counted since the device's last counter reset: total_increasing lets Home Assistant's statistics absorb resets.
  rain_mm: measure('Rain', 'precipitation', 'mm', 1, { stateClass: 'total_increasing' }),
  rain_rate_mm_h: measure('Rain rate', 'precipitation_intensity', 'mm/h', 1),
  uv_index: measure('UV index', undefined, 'UV index', 1, { icon: 'mdi:weather-sunny-alert' }),
  solar_wm2: measure('Solar radiation', 'irradiance', 'W/m²', 0),
  dew_point_c: measure('Dew point', 'temperature', '°C', 1),
} satisfies Record<string, SensorSpec>;

export type WeatherField = keyof typeof WEATHER_SENSORS | 'battery_ok';
export const WEATHER_FIELDS: readonly WeatherField[] = [
  ...(Object.keys(WEATHER_SENSORS) as Array<keyof typeof WEATHER_SENSORS>),
  'battery_ok',
];

/** Diagnostic readings of a parking.occupancy sensor. */
export const BAY_SENSORS = {
  battery_v: measure('Battery', 'voltage', 'V', 2, { diagnostic: true }),
  temperature_c: measure('Temperature', 'temperature', '°C', 0, { diagnostic: true }),
  distance_m: measure('Distance', 'distance', 'm', 2, { diagnostic: true }),
  rssi_dbm: measure('Signal', 'signal_strength', 'dBm', 0, { diagnostic: true }),
} satisfies Record<string, SensorSpec>;

/** Renders `value_json.<field>` when present, else '' (ignored by Home Assistant). */
export function fieldTemplate(field: string): string {
  return `{% if value_json.${field} is defined %}{{ value_json.${field} }}{% endif %}`;
}

/** Renders ON/OFF from a boolean field, else ''. */
export function boolTemplate(field: string, { invert = false } = {}): string {
  const [t, f] = invert ? ['OFF', 'ON'] : ['ON', 'OFF'];
  return `{% if value_json.${field} is defined %}{{ '${t}' if value_json.${field} else '${f}' }}{% endif %}`;
}

/** Renders ON when door.state's `state` is one of `states`, OFF for another state, else ''. */
export function doorStateTemplate(states: readonly string[]): string {
  const list = `[${states.map((s) => `'${s}'`).join(', ')}]`;
  return `{% if value_json.state is defined %}{{ 'ON' if value_json.state in ${list} else 'OFF' }}{% endif %}`;
}
