import { describe, expect, it } from 'vitest';
import { getCodec, reasonOfDecode } from '../../../devices/codecs.js';

const eco = getCodec('ecowitt');
const reason = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return reasonOfDecode(err);
  }
  return 'no error';
};

/** djjudas21/ecowitt-exporter README, "Example data sent from the Ecowitt weather station". */
const EXPORTER_EXAMPLE =
  'tempinf=78.6&humidityin=46&baromrelin=29.955&baromabsin=29.574&tempf=71.8&humidity=50&winddir=186' +
  '&windspeedmph=2.01&windgustmph=3.36&maxdailygust=13.65&solarradiation=50.32&uv=0&rainratein=0.000' +
  '&eventrainin=0.000&hourlyrainin=0.000&dailyrainin=0.000&weeklyrainin=0.012&monthlyrainin=0.012' +
  '&yearlyrainin=0.012&totalrainin=0.012';

/** matthewwall/weewx-interceptor README: a GW1000 gateway with only its indoor sensor. */
const INTERCEPTOR_GW1000 =
  'PASSKEY=XXX&stationtype=GW1000B_V1.5.5&dateutc=2019-12-29+16:27:27&tempinf=67.1&humidityin=39' +
  '&baromrelin=30.138&baromabsin=30.138&freq=915M&model=GW1000';

describe('ecowitt customized upload', () => {
  it('ecowitt-exporter example: imperial to SI, relative pressure, total rain counter', () => {
    expect(eco.decode(EXPORTER_EXAMPLE)).toEqual({
      type: 'weather.reading',
      data: {
        temperature_c: 22.11,
        humidity_pct: 50,
        pressure_hpa: 1014.39,
        wind_speed_ms: 0.9,
        wind_gust_ms: 1.5,
        wind_dir_deg: 186,
        rain_mm: 0.305,
        rain_rate_mm_h: 0,
        uv_index: 0,
        solar_wm2: 50.3,
      },
    });
  });

  it('weewx-interceptor GW1000 example: indoor temperature is not outdoor weather, the barometer is', () => {
    expect(eco.decode(INTERCEPTOR_GW1000).data).toEqual({ pressure_hpa: 1020.59 });
  });

  it('reads the WH65 battery flag (0 normal) and the Ambient battout flag (1 normal)', () => {
    expect(eco.decode('tempf=50&wh65batt=0').data.battery_ok).toBe(true);
    expect(eco.decode('tempf=50&wh65batt=1').data.battery_ok).toBe(false);
    expect(eco.decode('tempf=50&battout=1').data.battery_ok).toBe(true);
  });

  it('accepts the body as bytes, percent-encoded date included', () => {
    const body = Buffer.from('PASSKEY=A&dateutc=2021-08-17+00%3A15%3A59&tempf=22.0&humidity=100&wh65batt=0');
    expect(eco.decode(body).data).toEqual({ temperature_c: -5.56, humidity_pct: 100, battery_ok: true });
  });

  it('rejects: indoor-only body not_weather, empty value truncated, text value garbage, not a form garbage', () => {
    expect(reason(() => eco.decode('PASSKEY=X&tempinf=70.0&humidityin=40'))).toBe('not_weather');
    expect(reason(() => eco.decode('tempf=71.8&humidity='))).toBe('truncated');
    expect(reason(() => eco.decode('tempf=warm'))).toBe('garbage');
    expect(reason(() => eco.decode('<html>hello</html>'))).toBe('garbage');
    expect(reason(() => eco.decode(`tempf=1&pad=${'x'.repeat(9000)}`))).toBe('oversized');
  });
});
