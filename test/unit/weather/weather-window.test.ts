import { describe, expect, it } from 'vitest';
import { WeatherWindow } from '../../../devices/weather/aggregation/weather-window.js';
import { decodeRtl433 } from '../../../devices/weather/codecs/rtl433.js';

const START = new Date('2025-06-01T12:00:00Z');

describe('weather aggregation window', () => {
  it('averages state quantities and keeps the gust as the maximum of gusts and speeds', () => {
    const w = new WeatherWindow();
    w.add({ temperature_c: 10, humidity_pct: 80, pressure_hpa: 1010, wind_speed_ms: 2, wind_gust_ms: 3.5 });
    w.add({ temperature_c: 11, humidity_pct: 82, pressure_hpa: 1011, wind_speed_ms: 4.2 });
    w.add({ temperature_c: 12.5, wind_speed_ms: 3 });
    expect(w.close(START, 60)).toEqual({
      temperature_c: 11.17,
      humidity_pct: 81,
      pressure_hpa: 1010.5,
      wind_speed_ms: 3.07,
      wind_gust_ms: 4.2,
      interval_s: 60,
      samples: 3,
      start: '2025-06-01T12:00:00.000Z',
    });
  });

  it('averages wind directions as vectors: 350° and 10° give 0°, not 180°', () => {
    const w = new WeatherWindow();
    w.add({ wind_dir_deg: 350, wind_speed_ms: 3 });
    w.add({ wind_dir_deg: 10, wind_speed_ms: 3 });
    expect(w.close(START, 60)?.wind_dir_deg).toBe(0);
    w.add({ wind_dir_deg: 80, wind_speed_ms: 1 });
    w.add({ wind_dir_deg: 100, wind_speed_ms: 3 });
    // Weighted by speed: nearer 100° than 80°.
    expect(w.close(START, 60)?.wind_dir_deg).toBe(95);
  });

  it('leaves out a direction when the wind was calm or the vectors cancel', () => {
    const w = new WeatherWindow();
    w.add({ wind_dir_deg: 90, wind_speed_ms: 0 });
    expect(w.close(START, 60)).not.toHaveProperty('wind_dir_deg');
    w.add({ wind_dir_deg: 90, wind_speed_ms: 2 });
    w.add({ wind_dir_deg: 270, wind_speed_ms: 2 });
    expect(w.close(START, 60)).not.toHaveProperty('wind_dir_deg');
  });

  it('turns a rain counter into the amount that fell in each window, across counter resets', () => {
    const w = new WeatherWindow();
    // The first value is the baseline: rain before the gateway listened is not this window's.
    w.add({ rain_mm: 22.2 });
    w.add({ rain_mm: 22.5 });
    expect(w.close(START, 60)?.rain_mm).toBe(0.3);
    w.add({ rain_mm: 22.9 });
    // The station's batteries were changed: the counter restarts from 0 and 0.4 mm has fallen since.
    w.add({ rain_mm: 0.4 });
    w.add({ rain_mm: 0.6 });
    expect(w.close(START, 60)?.rain_mm).toBe(1);
    // A window with the counter unchanged reports no rain, not a missing field.
    w.add({ rain_mm: 0.6 });
    expect(w.close(START, 60)?.rain_mm).toBe(0);
  });

  it('keeps the highest rain rate and reports a low battery if any sample did', () => {
    const w = new WeatherWindow();
    w.add({ rain_rate_mm_h: 2.1, battery_ok: true });
    w.add({ rain_rate_mm_h: 7.4, battery_ok: false });
    w.add({ rain_rate_mm_h: 0.3, battery_ok: true });
    expect(w.close(START, 60)).toMatchObject({ rain_rate_mm_h: 7.4, battery_ok: false });
  });

  it('gives nothing for a window without samples and starts each window afresh', () => {
    const w = new WeatherWindow();
    expect(w.close(START, 60)).toBeUndefined();
    w.add({ temperature_c: 5 });
    w.close(START, 60);
    w.add({ humidity_pct: 50 });
    expect(w.close(START, 60)).toEqual({ humidity_pct: 50, interval_s: 60, samples: 1, start: START.toISOString() });
  });

  it('aggregates decoded rtl_433 lines (merbanan/rtl_433_tests Fine Offset WH24 capture, rain counter moving)', () => {
    // The WH24 line from shared/vectors (merbanan/rtl_433_tests), then the same station 16 s later with more rain.
    const a =
      '{"time" : "@0.210816s", "model" : "Fineoffset-WH24", "id" : 191, "battery_ok" : 1, "temperature_C" : 11.800, "humidity" : 79, "wind_dir_deg" : 259, "wind_avg_m_s" : 0.560, "wind_max_m_s" : 1.120, "rain_mm" : 22.200, "uv" : 1, "uvi" : 0, "light_lux" : 0.000, "mic" : "CRC"}';
    const b = a.replace('"temperature_C" : 11.800', '"temperature_C" : 12.000').replace('22.200', '22.500');
    const w = new WeatherWindow();
    for (const line of [a, b]) w.add(decodeRtl433(line).data);
    expect(w.close(START, 60)).toMatchObject({
      temperature_c: 11.9,
      humidity_pct: 79,
      wind_speed_ms: 0.56,
      wind_gust_ms: 1.12,
      wind_dir_deg: 259,
      rain_mm: 0.3,
      uv_index: 0,
      battery_ok: true,
      samples: 2,
    });
  });
});
