import { describe, expect, it } from 'vitest';
import { crc16Xmodem } from '../../../devices/weather/codecs/davis-crc.js';
import { decodeDavisLoop } from '../../../devices/weather/codecs/davis-loop.js';
import { buildLoopPacket } from '../../../firmware-stubs/davis-console.js';

describe('Davis console stub', () => {
  it('builds LOOP packets that the Davis codec accepts, with the values it was given', () => {
    const packet = buildLoopPacket({
      barometer_inhg: 29.985,
      inside_temp_f: 73,
      inside_humidity: 57,
      outside_temp_f: 72.1,
      outside_humidity: 78,
      wind_mph: 4,
      wind_avg_mph: 5,
      wind_dir_deg: 355,
      day_rain_clicks: 10,
      rain_rate_clicks_h: 0,
    });
    expect(packet).toHaveLength(99);
    expect(crc16Xmodem(packet)).toBe(0);
    const { data } = decodeDavisLoop(packet);
    expect(data.temperature_c).toBeCloseTo(22.28, 1);
    expect(data.humidity_pct).toBe(78);
    expect(data.wind_dir_deg).toBe(355);
    expect(data.pressure_hpa).toBeCloseTo(29.985 * 33.8639, 0);
    // "No sensor" values on the wire must not appear as readings.
    expect(data).not.toHaveProperty('uv_index');
    expect(data).not.toHaveProperty('solar_wm2');
  });
});
